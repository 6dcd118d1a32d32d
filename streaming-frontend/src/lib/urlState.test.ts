import { describe, expect, it } from 'vitest';
import { DEFAULT_VIEW, readSession, readView, writeSession, writeView } from './urlState';

describe('view state in the URL', () => {
  it('round-trips subject, compared subjects, types, window, zone and inspector', () => {
    const view = {
      subject: 'alice',
      compare: ['bob'],
      types: new Set(['heart_rate', 'steps']),
      windowS: 1800,
      zone: 'local' as const,
      inspector: true,
      transport: 'ws' as const,
      faults: { disconnect_after: 5, malformed: 0.25 },
      faultSeed: 3,
    };
    const search = writeView('?backend=http%3A%2F%2F127.0.0.1%3A9000', view);
    expect(search).toContain('backend=');
    expect(search).toContain('transport=ws');
    expect(new URLSearchParams(search).get('faults')).toBe('disconnect_after=5,malformed=0.25');
    expect(new URLSearchParams(search).get('fault_seed')).toBe('3');
    expect(readView(search)).toEqual(view);
  });

  it('writes nothing for the defaults and ignores nonsense', () => {
    expect(writeView('', DEFAULT_VIEW)).toBe('');
    expect(readView('?window=-5&tz=mars')).toEqual(DEFAULT_VIEW);
    expect(readView('?types=').types).toEqual(new Set());
  });
});

describe('the session in the URL', () => {
  it('sits next to the view state, and a switch drops the old subjects', () => {
    const search = '?transport=ws&subject=alice&compare=bob&window=300';
    const switched = writeSession(search, 's_abc123');
    expect(readSession(switched)).toBe('s_abc123');
    const params = new URLSearchParams(switched);
    expect(params.get('transport')).toBe('ws');
    expect(params.get('window')).toBe('300');
    expect(params.has('subject')).toBe(false);
    expect(params.has('compare')).toBe(false);
    // The view written afterwards keeps it.
    expect(readSession(writeView(switched, readView(switched)))).toBe('s_abc123');
    expect(readSession(writeSession(switched, null))).toBeNull();
  });

  it('reads an empty or absurd session as the default simulation', () => {
    expect(readSession('')).toBeNull();
    expect(readSession('?session=')).toBeNull();
    expect(readSession(`?session=${'x'.repeat(500)}`)).toBeNull();
  });

  it('drops faults the server would refuse, and their seed with them', () => {
    const view = readView('?faults=drop=2,duplicate=0.5,bogus=1,status=418&fault_seed=x');
    expect(view.faults).toEqual({ duplicate: 0.5 });
    expect(view.faultSeed).toBeNull();
    expect(writeView('', { ...DEFAULT_VIEW, faultSeed: 4 })).toBe('');
  });
});
