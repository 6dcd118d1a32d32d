import { describe, expect, it } from 'vitest';
import { describeFaults, faultError, formatFaults, hasFaults, parseFaults, withFaults } from './faults';

describe('fault specs', () => {
  it('round-trips every fault in the documented order', () => {
    const text =
      'disconnect_after=5,stall_after=20,drop=0.1,duplicate=0.2,malformed=0.3,delay_ms=50,jitter_ms=10,status=503';
    expect(formatFaults(parseFaults(text))).toBe(text);
    expect(formatFaults(parseFaults('status=429,drop=0.5'))).toBe('drop=0.5,status=429');
  });

  it("leaves out what the server would refuse, so a hand-typed address can't break the page", () => {
    expect(parseFaults('drop=1.5,duplicate=0,malformed=-1,status=418,disconnect_after=2.5,x=1,drop')).toEqual(
      {},
    );
    expect(parseFaults(null)).toEqual({});
    expect(hasFaults(parseFaults('stall_after=3'))).toBe(true);
    expect(hasFaults({})).toBe(false);
  });

  it('says why a value is refused', () => {
    expect(faultError('drop', 0)).toMatch(/probability/);
    expect(faultError('disconnect_after', 0)).toMatch(/at least 1/);
    expect(faultError('delay_ms', 1.5)).toMatch(/whole milliseconds/);
    expect(faultError('status', 404)).toMatch(/429, 500, 502, 503, 504/);
    expect(faultError('jitter_ms', 0)).toBeNull();
  });

  it('describes the active faults in words', () => {
    expect(describeFaults({ disconnect_after: 1, drop: 0.1, status: 503, jitter_ms: 20 })).toEqual([
      'cut after 1 sample',
      '10 % dropped',
      '± 20 ms jitter',
      'refused with 503',
    ]);
  });

  it('puts the faults and their seed on a stream URL, and takes them off again', () => {
    const url = withFaults('/api/stream?session=s_1&last_event_id=4', { malformed: 0.5 }, 7);
    const params = new URL(url, 'http://x').searchParams;
    expect(url.startsWith('/api/stream?')).toBe(true);
    expect(params.get('faults')).toBe('malformed=0.5');
    expect(params.get('fault_seed')).toBe('7');
    expect(params.get('session')).toBe('s_1');
    expect(withFaults(url, {}, 7)).toBe('/api/stream?session=s_1&last_event_id=4');
    expect(withFaults('http://h:1/api/stream', { drop: 0.1 }, null)).toBe(
      'http://h:1/api/stream?faults=drop%3D0.1',
    );
  });
});
