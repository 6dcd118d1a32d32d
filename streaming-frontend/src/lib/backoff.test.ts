import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from './backoff';

describe('backoffDelay', () => {
  it('doubles from the base with jitter, up to the cap', () => {
    const low = (): number => 0;
    const high = (): number => 0.999_999;
    expect(backoffDelay(1, { baseMs: 3000, random: low })).toBe(1500);
    expect(backoffDelay(1, { baseMs: 3000, random: high })).toBe(3000);
    expect(backoffDelay(3, { baseMs: 3000, random: low })).toBe(6000);
    expect(backoffDelay(20, { baseMs: 3000, capMs: 30_000, random: high })).toBe(30_000);
  });

  it('spreads clients that failed together', () => {
    const delays = new Set([0.1, 0.4, 0.7].map((r) => backoffDelay(2, { baseMs: 1000, random: () => r })));
    expect(delays.size).toBe(3);
  });

  it("never retries sooner than the server's Retry-After", () => {
    expect(backoffDelay(1, { baseMs: 1000, retryAfterMs: 5000, random: () => 0 })).toBe(5000);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    const now = Date.UTC(2026, 1, 3, 10, 0, 0);
    expect(parseRetryAfter('Tue, 03 Feb 2026 10:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
  });
});
