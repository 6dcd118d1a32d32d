import { describe, expect, it } from 'vitest';
import { DEFAULT_VIEW, readView, writeView } from './urlState';

describe('view state in the URL', () => {
  it('round-trips subject, compared subjects, types, window, zone and inspector', () => {
    const view = {
      subject: 'alice',
      compare: ['bob'],
      types: new Set(['heart_rate', 'steps']),
      windowS: 1800,
      zone: 'local' as const,
      inspector: true,
    };
    const search = writeView('?backend=http%3A%2F%2F127.0.0.1%3A9000', view);
    expect(search).toContain('backend=');
    expect(readView(search)).toEqual(view);
  });

  it('writes nothing for the defaults and ignores nonsense', () => {
    expect(writeView('', DEFAULT_VIEW)).toBe('');
    expect(readView('?window=-5&tz=mars')).toEqual(DEFAULT_VIEW);
    expect(readView('?types=').types).toEqual(new Set());
  });
});
