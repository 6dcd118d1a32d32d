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

  it('addresses its session on every data and control route, and on the stream', async () => {
    const fake = fakeFetch({
      'GET /api/history': () => ({ body: { items: [], next_after_id: null } }),
      'GET /api/stats': () => ({ body: { subscribers: 1, buffer: { size: 0, capacity: 10 } } }),
      'GET /api/subjects': () => ({ body: [{ name: 'alice' }] }),
      'GET /api/clock': () => ({ body: { speed: 1, paused: true, now: null } }),
      'POST /api/clock': () => ({ body: { speed: 1, paused: false, now: null } }),
      'POST /api/scenario': () => ({ body: {} }),
      'GET /api/types': () => ({ body: [] }),
    });
    const api = new Api('', fake.fetch, 'tok').withSession('s_42');
    await api.history({ afterId: 3 });
    await api.stats();
    await api.subjects();
    await api.clock();
    await api.setClock({ paused: false });
    await api.setScenario('workout', 'alice');
    await api.types();
    const scoped = fake.calls.filter((c) => c.url.pathname !== '/api/types');
    expect(scoped).toHaveLength(6);
    for (const call of scoped) expect(call.url.searchParams.get('session')).toBe('s_42');
    expect(fake.calls.at(-1)?.url.searchParams.has('session')).toBe(false);
    expect(api.streamUrl(9)).toBe('/api/stream?session=s_42&last_event_id=9&access_token=tok');
    expect(api.withToken('other').session).toBe('s_42');
    expect(api.withSession(null).streamUrl()).toBe('/api/stream?access_token=tok');
  });

  it('creates, lists and deletes sessions', async () => {
    const session = { id: 's_1', expires_at: '2026-02-03T11:00:00.000Z', seed: 7, subjects: ['alice'] };
    const fake = fakeFetch({
      'POST /api/sessions': () => ({ status: 201, body: session }),
      'GET /api/sessions': () => ({ body: { items: [session, { nonsense: true }] } }),
      'DELETE /api/sessions/s_1': () => new Response(null, { status: 204 }),
    });
    const api = new Api('', fake.fetch);
    const made = await api.createSession({ seed: 7, subjects: ['alice'], paused: true, ttl_s: 600 });
    expect(made).toMatchObject({ id: 's_1', seed: 7, subjects: ['alice'] });
    expect(fake.calls[0]?.body).toEqual({ seed: 7, subjects: ['alice'], paused: true, ttl_s: 600 });
    expect((await api.sessions()).map((s) => s.id)).toEqual(['s_1']);
    await api.deleteSession('s_1');
    expect(fake.calls.at(-1)?.method).toBe('DELETE');
  });

  it('tells a session that is gone from a route that is missing', async () => {
    const fake = fakeFetch({
      'GET /api/stats': () => ({
        status: 404,
        body: { error: { code: 'not_found', message: 'no session s_x', parameter: 'session' } },
      }),
    });
    const gone = await new Api('', fake.fetch)
      .withSession('s_x')
      .stats()
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ApiError);
    expect((gone as ApiError).sessionGone).toBe(true);
    expect((gone as ApiError).missing).toBe(false);
    const missing = await new Api('', fake.fetch).subjects().catch((e: unknown) => e);
    expect((missing as ApiError).missing).toBe(true);
    expect((missing as ApiError).sessionGone).toBe(false);
  });
});
