import { describe, expect, it } from 'vitest';
import { fakeFetch } from '../test/fakeFetch';
import { Api, ApiError, resolveBackend } from './api';

describe('resolveBackend', () => {
  it('prefers ?backend= over the build setting, and the page origin over both when absent', () => {
    expect(resolveBackend('?backend=http://127.0.0.1:9000/', 'http://127.0.0.1:7000')).toBe(
      'http://127.0.0.1:9000',
    );
    expect(resolveBackend('', 'http://127.0.0.1:7000')).toBe('http://127.0.0.1:7000');
    expect(resolveBackend('', undefined)).toBe('');
  });

  it('ignores what is not an http(s) URL', () => {
    expect(resolveBackend('?backend=javascript:alert(1)', undefined)).toBe('');
    expect(resolveBackend('?backend=not a url', undefined)).toBe('');
  });
});

describe('Api', () => {
  it('asks history with after_id and limit', async () => {
    const fake = fakeFetch({
      'GET /api/history': () => ({ body: { items: [], next_after_id: null } }),
    });
    const api = new Api('', fake.fetch);
    await expect(api.history({ afterId: 41, limit: 500 })).resolves.toEqual({ items: [], nextAfterId: null });
    expect(fake.calls[0]?.url.search).toBe('?after_id=41&limit=500');
  });

  it('builds the stream URL on the chosen backend', () => {
    expect(new Api('http://127.0.0.1:9000').streamUrl(7)).toBe(
      'http://127.0.0.1:9000/api/stream?last_event_id=7',
    );
    expect(new Api('').streamUrl()).toBe('/api/stream');
  });

  it("turns API.md's error shape into an ApiError", async () => {
    const fake = fakeFetch({
      'POST /api/scenario': () => ({
        status: 400,
        body: {
          error: { code: 'invalid_parameter', message: "unknown scenario 'nap'", parameter: 'scenario' },
        },
      }),
    });
    const error = await new Api('', fake.fetch).setScenario('nap', 'default').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid_parameter',
      message: "unknown scenario 'nap'",
    });
    expect(fake.calls[0]?.body).toEqual({ scenario: 'nap', subject: 'default' });
  });

  it('says a missing route is missing and a dead backend unreachable', async () => {
    const fake = fakeFetch({ 'GET /api/stats': () => 'down' });
    const api = new Api('', fake.fetch);
    const missing = await api.scenarios().catch((e: unknown) => e);
    expect(missing instanceof ApiError && missing.missing).toBe(true);
    const down = await api.stats().catch((e: unknown) => e);
    expect(down instanceof ApiError && down.unreachable).toBe(true);
  });

  it("treats a proxy's 502 without biomock's error body as unreachable", async () => {
    const fake = fakeFetch({ 'GET /api/stats': () => ({ status: 502, body: 'Bad gateway' }) });
    const error = await new Api('', fake.fetch).stats().catch((e: unknown) => e);
    expect(error instanceof ApiError && error.unreachable).toBe(true);
  });

  it('refuses an answer of the wrong shape', async () => {
    const fake = fakeFetch({ 'GET /api/clock': () => ({ body: { speed: 'fast' } }) });
    await expect(new Api('', fake.fetch).clock()).rejects.toMatchObject({ code: 'bad_response' });
  });
});
