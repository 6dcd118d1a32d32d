import { describe, expect, it } from 'vitest';
import { formatClock, formatTick, formatTime, zoneName } from './format';

const t = Date.UTC(2026, 1, 3, 14, 5, 9);

describe('time formats', () => {
  it('writes every time in one 24-hour format, in UTC by default, with the zone named', () => {
    expect(formatClock(t)).toBe('14:05:09');
    expect(formatTime(t)).toBe('14:05:09 UTC');
    expect(formatTick(t)).toBe('14:05');
    expect(formatTick(t, 'utc', true)).toBe('14:05:09');
  });

  it("names the browser's zone when local time is chosen", () => {
    expect(zoneName('local', t)).not.toBe('');
    expect(formatTime(t, 'local')).toMatch(/^\d{2}:\d{2}:\d{2} \S+/);
  });
});
