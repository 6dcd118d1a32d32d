import { describe, expect, it } from 'vitest';
import { LatencyMeter } from './latency';

const wall = Date.UTC(2026, 1, 3, 10, 0, 0);

describe('LatencyMeter', () => {
  it('is unknown until the clock has been read', () => {
    const meter = new LatencyMeter();
    meter.note(wall, wall + 5);
    expect(meter.medianMs()).toBeNull();
  });

  it("measures from the server's clock at 60x, not from the simulated timestamp", () => {
    const meter = new LatencyMeter();
    // Simulated time is 4 hours ahead of the wall and runs 60 times faster.
    const simNow = wall + 4 * 3_600_000;
    meter.setClock({ speed: 60, paused: false, now: simNow }, wall);
    // One wall second later simulated time reached simNow + 60 s; the sample arrives 30 ms later.
    for (let i = 1; i <= 5; i += 1) meter.note(simNow + i * 60_000, wall + i * 1000 + 30);
    expect(meter.medianMs()).toBeCloseTo(30, 5);
  });

  it('forgets the old speed when the clock goes back to 1x', () => {
    const meter = new LatencyMeter();
    meter.setClock({ speed: 60, paused: false, now: wall }, wall);
    meter.note(wall + 60_000, wall + 1000 + 500);
    meter.setClock({ speed: 1, paused: false, now: wall + 120_000 }, wall + 2000);
    meter.note(wall + 121_000, wall + 3000 + 12);
    expect(meter.medianMs()).toBeCloseTo(12, 5);
  });

  it('says it does not know once a sample shows the reading is out of date', () => {
    const meter = new LatencyMeter();
    meter.setClock({ speed: 1, paused: false, now: wall }, wall);
    // The clock was jumped an hour forward elsewhere: this sample seems to come from the future.
    expect(meter.note(wall + 3_600_000, wall + 1000)).toBe(false);
    expect(meter.medianMs()).toBeNull();
  });
});
