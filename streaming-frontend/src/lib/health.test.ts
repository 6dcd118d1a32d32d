import { describe, expect, it } from 'vitest';
import { holdableSpan, observedCadence, staleFor } from './health';
import { Ring } from './ring';

describe('health checks', () => {
  it('observes the cadence as the median spacing, robust to one late sample', () => {
    const ring = new Ring(100);
    [0, 60, 120, 180, 400, 460, 520].forEach((t, i) => ring.push(i + 1, t, 1));
    expect(observedCadence(ring)).toBe(60);
  });

  it('flags a type that went quiet for three periods at the clock speed', () => {
    const now = 1_000_000;
    expect(staleFor(now - 10_000, 1, 1, false, now)).toBeNull();
    expect(staleFor(now - 20_000, 1, 1, false, now)).toBe(20_000);
    // A 5-minute type at 60x is due every 5 s of wall time: quiet for 16 s is stale.
    expect(staleFor(now - 16_000, 300, 60, false, now)).toBe(16_000);
    expect(staleFor(now - 60_000, 300, 1, false, now)).toBeNull();
    expect(staleFor(now - 60_000, 1, 1, true, now)).toBeNull();
  });

  it('says how long a window the ring can hold at its cadence', () => {
    const ring = new Ring(10_000);
    for (let i = 0; i < 100; i += 1) ring.push(i + 1, i, 1);
    expect(holdableSpan(ring)).toBe(10_000);
  });
});
