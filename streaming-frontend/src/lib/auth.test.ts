import { describe, expect, it } from 'vitest';
import { Api } from './api';
import { TokenStore, allows, parseIdentity, tokenNeed } from './auth';
import { fakeFetch } from '../test/fakeFetch';

describe('auth', () => {
  it('keeps the token in the given storage', () => {
    const tokens = new TokenStore(window.sessionStorage);
    expect(tokens.read()).toBeNull();
    tokens.write('abc');
    expect(window.sessionStorage.getItem('biomock.token')).toBe('abc');
    expect(new TokenStore(window.sessionStorage).read()).toBe('abc');
    tokens.write(null);
    expect(tokens.read()).toBeNull();
  });

  it('reads whoami and decides what the token may do', () => {
    const identity = parseIdentity({
      authentication: true,
      name: 'viewer',
      scopes: ['read'],
      expires_at: null,
    });
    expect(identity).toEqual({ authentication: true, name: 'viewer', scopes: ['read'], expiresAt: null });
    expect(allows(identity, 'read')).toBe(true);
    expect(allows(identity, 'control')).toBe(false);
    expect(
      allows({ authentication: true, name: 'root', scopes: ['admin'], expiresAt: null }, 'control'),
    ).toBe(true);
    expect(allows({ authentication: false, name: null, scopes: [], expiresAt: null }, 'control')).toBe(true);
    expect(allows(null, 'control')).toBe(true);
    expect(parseIdentity({ name: 'x' })).toBeNull();
  });

  it('tells a missing, a refused and an expired token apart', () => {
    expect(tokenNeed(null, false, 'unauthorized')).toBe('required');
    expect(tokenNeed('t', false, 'unauthorized')).toBe('rejected');
    expect(tokenNeed('t', true, 'unauthorized')).toBe('expired');
    expect(tokenNeed('t', false, 'token_expired')).toBe('expired');
  });

  it('sends the token as a bearer header on requests and as access_token on the stream', async () => {
    const sent: (string | undefined)[] = [];
    const fake = fakeFetch({
      'GET /api/stats': (_url, init) => {
        sent.push((init?.headers as Record<string, string> | undefined)?.Authorization);
        return { status: 401, body: { error: { code: 'unauthorized', message: 'no' } } };
      },
    });
    const api = new Api('', fake.fetch).withToken('s3cret');
    await expect(api.stats()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    await expect(new Api('', fake.fetch).stats()).rejects.toMatchObject({ status: 401 });
    expect(sent).toEqual(['Bearer s3cret', undefined]);
    expect(api.streamUrl(5)).toBe('/api/stream?last_event_id=5&access_token=s3cret');
    expect(new Api('', fake.fetch).streamUrl()).toBe('/api/stream');
  });
});
