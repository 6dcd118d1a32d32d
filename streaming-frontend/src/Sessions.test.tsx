import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthGate } from './AuthGate';
import { Api } from './lib/api';
import { TokenStore } from './lib/auth';
import { Store } from './lib/store';
import { type FakeFetch, fakeFetch } from './test/fakeFetch';
import { StreamServer, sampleJson } from './test/fakeStream';

vi.mock('uplot', async () => ({ default: (await import('./test/fakeUPlot')).FakeUPlot }));

const T0 = Date.UTC(2026, 1, 3, 10, 30, 0);
const at = (second: number): string => new Date(T0 + second * 1000).toISOString();

let server: StreamServer;

/** The default simulation has `default`; each session has its own subjects, and ids from 1. */
interface Sim {
  subjects: string[];
  seed: number;
}

const GONE = { error: { code: 'not_found', message: 'unknown session', parameter: 'session' } };

function backend(initial: Record<string, Sim>): { fake: FakeFetch; sessions: Map<string, Sim> } {
  const sessions = new Map(Object.entries(initial));
  let made = 0;
  const simOf = (url: URL): Sim | null => {
    const id = url.searchParams.get('session');
    if (id === null) return { subjects: ['default'], seed: 0 };
    return sessions.get(id) ?? null;
  };
  const scoped =
    (answer: (sim: Sim) => unknown) =>
    (url: URL): { status?: number; body: unknown } => {
      const sim = simOf(url);
      return sim === null ? { status: 404, body: GONE } : { body: answer(sim) };
    };
  const describe = (id: string, sim: Sim) => ({
    id,
    seed: sim.seed,
    subjects: sim.subjects,
    expires_at: at(3600),
  });
  const fake = fakeFetch({
    'GET /api/history': scoped((sim) => ({
      items: sim.subjects.map((subject, i) =>
        sampleJson({ id: i + 1, subject, value: 60 + i, timestamp: at(i) }),
      ),
      next_after_id: null,
    })),
    'GET /api/stream': (url, init) => {
      if (simOf(url) === null) {
        return new Response(JSON.stringify(GONE), {
          status: 404,
          headers: { 'Content-Type': 'application/json' },
        });
      }
      return server.fetch(url.pathname + url.search, init);
    },
    'GET /api/stats': scoped(() => ({ subscribers: 1, buffer: { size: 1, capacity: 10 } })),
    'GET /api/subjects': scoped((sim) => sim.subjects.map((name) => ({ name, scenario: 'rest' }))),
    'GET /api/clock': scoped(() => ({ speed: 1, paused: false, now: new Date(Date.now()).toISOString() })),
    'GET /api/types': () => ({ body: [{ name: 'heart_rate', unit: 'count/min', kind: 'quantity' }] }),
    'GET /api/scenarios': () => ({ body: [{ name: 'rest', description: 'Sitting quietly' }] }),
    'GET /api/sessions': () => ({ body: { items: [...sessions].map(([id, sim]) => describe(id, sim)) } }),
    'POST /api/sessions': (_url, init) => {
      const body = JSON.parse(String(init?.body)) as { seed?: number; subjects?: string[] };
      made += 1;
      const id = `s_new${made}`;
      const sim = { subjects: body.subjects ?? ['default'], seed: body.seed ?? 99 };
      sessions.set(id, sim);
      return { status: 201, body: describe(id, sim) };
    },
  });
  // DELETE /api/sessions/{id}: the fake's table is keyed by exact path, so it is answered here.
  const base = fake.fetch;
  const fetchImpl: FakeFetch['fetch'] = async (input, init) => {
    const url = new URL(input, 'http://127.0.0.1:5193');
    const match = /^\/api\/sessions\/(.+)$/.exec(url.pathname);
    if (match !== null && init?.method === 'DELETE') {
      fake.calls.push({ method: 'DELETE', url, body: null });
      const known = sessions.delete(decodeURIComponent(match[1] ?? ''));
      // Its open streams end cleanly.
      if (known) for (const connection of server.connections) connection.end();
      return known
        ? new Response(null, { status: 204 })
        : new Response(JSON.stringify(GONE), {
            status: 404,
            headers: { 'Content-Type': 'application/json' },
          });
    }
    return base(input, init);
  };
  return { fake: { ...fake, fetch: fetchImpl }, sessions };
}

async function settle(ms = 0): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

async function setup(fake: FakeFetch, search = '') {
  const store = new Store({ requestFrame: (cb) => setTimeout(cb, 0) });
  const views: string[] = [];
  render(
    <AuthGate
      store={store}
      api={new Api('', fake.fetch)}
      tokens={new TokenStore(window.sessionStorage)}
      search={search}
      onViewChange={(s) => views.push(s)}
    />,
  );
  await settle();
  await settle();
  await settle(200);
  return { store, views };
}

function sessionOf(url: string): string | null {
  return new URL(url, 'http://x').searchParams.get('session');
}

beforeEach(() => {
  server = new StreamServer();
  window.sessionStorage.clear();
  vi.useFakeTimers();
  vi.setSystemTime(T0 + 5000);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('sessions', () => {
  it('opened with ?session=, addresses it on every data and control request and on the stream', async () => {
    const { fake } = backend({ s_alice: { subjects: ['alice', 'bob'], seed: 7 } });
    await setup(fake, '?session=s_alice&transport=sse');
    const scoped = ['/api/history', '/api/stream', '/api/stats', '/api/subjects', '/api/clock'];
    for (const path of scoped) {
      const calls = fake.calls.filter((c) => c.url.pathname === path);
      expect(calls.length, path).toBeGreaterThan(0);
      for (const call of calls) expect(call.url.searchParams.get('session'), path).toBe('s_alice');
    }
    expect(screen.getByTestId('subject')).toHaveValue('alice');
    expect(screen.getByTestId('session-select')).toHaveValue('s_alice');
    expect(screen.getByTestId('session-id')).toHaveTextContent('s_alice');
    expect(screen.getByTestId('session-select')).toHaveTextContent('seed 7 · alice, bob');
  });

  it('creates a session from the form, switches to it and starts the charts over', async () => {
    const { fake } = backend({});
    const { store, views } = await setup(fake, '?tz=local');
    await act(async () => {
      server.latest().sample(sampleJson({ id: 2, subject: 'default', timestamp: at(1) }));
      await vi.advanceTimersByTimeAsync(10);
    });
    expect(store.ids()).toEqual([1, 2]);
    const form = screen.getByTestId('new-session');
    fireEvent.change(within(form).getByTestId('new-seed'), { target: { value: '42' } });
    fireEvent.change(within(form).getByTestId('new-subjects'), { target: { value: 'carol, dave' } });
    fireEvent.click(within(form).getByTestId('new-paused'));
    fireEvent.change(within(form).getByTestId('new-ttl'), { target: { value: '600' } });
    fireEvent.click(within(form).getByTestId('create-session'));
    await settle();
    await settle(200);
    expect(fake.calls.find((c) => c.method === 'POST')?.body).toEqual({
      seed: 42,
      subjects: ['carol', 'dave'],
      paused: true,
      ttl_s: 600,
    });
    expect(sessionOf(views.at(-1) ?? '')).toBe('s_new1');
    expect(views.at(-1)).toContain('tz=local');
    // The old stream is closed; the new one addresses the session and starts from its own history.
    expect(server.connections[0]?.closed).toBe(true);
    expect(sessionOf(server.latest().url)).toBe('s_new1');
    expect(store.ids()).toEqual([1, 2]);
    expect(store.getSnapshot().subjects).toEqual(['carol', 'dave']);
    expect(screen.getByTestId('subject')).toHaveValue('carol');
    expect(screen.getByTestId('duplicates')).toHaveTextContent('0');
  });

  it('refuses a form the server would refuse, before asking it', async () => {
    const { fake } = backend({});
    await setup(fake);
    const form = screen.getByTestId('new-session');
    fireEvent.change(within(form).getByTestId('new-ttl'), { target: { value: '90000' } });
    fireEvent.click(within(form).getByTestId('create-session'));
    await settle();
    expect(screen.getByTestId('session-feedback')).toHaveTextContent('from 1 to 86400');
    expect(fake.calls.some((c) => c.method === 'POST')).toBe(false);
  });

  it('deleting the session watched says so, stops asking, and offers the way back', async () => {
    const { fake } = backend({ s_alice: { subjects: ['alice'], seed: 7 } });
    const { views } = await setup(fake, '?session=s_alice');
    fireEvent.click(screen.getByTestId('delete-session'));
    await settle();
    await settle(200);
    expect(screen.getByTestId('session-gone')).toHaveTextContent('was deleted');
    expect(screen.getByTestId('connection-state')).toHaveTextContent('ended');
    expect(screen.queryByTestId('delete-session')).toBeNull();
    expect(screen.queryByTestId('stream-error')).toBeNull();
    expect(screen.queryByTestId('history-error')).toBeNull();
    const before = server.requests.length;
    await settle(30_000);
    expect(server.requests.length).toBe(before);
    fireEvent.click(screen.getByTestId('leave-session'));
    await settle();
    await settle(200);
    expect(sessionOf(views.at(-1) ?? '')).toBeNull();
    expect(sessionOf(server.latest().url)).toBeNull();
    expect(screen.queryByTestId('session-gone')).toBeNull();
    expect(screen.getByTestId('subject')).toHaveValue('default');
  });

  it('a session unknown to the server (expired, or deleted elsewhere) is said once, not retried', async () => {
    const { fake } = backend({});
    await setup(fake, '?session=s_expired');
    expect(screen.getByTestId('session-gone')).toHaveTextContent('does not exist');
    expect(screen.getByTestId('session-gone')).toHaveTextContent('expired');
    const before = fake.calls.length;
    await settle(60_000);
    const later = fake.calls.slice(before).map((c) => c.url.pathname);
    expect(later.filter((p) => p !== '/api/sessions' && p !== '/api/whoami')).toEqual([]);
  });

  it('a session deleted elsewhere while watched is noticed when its stream ends', async () => {
    const { fake, sessions } = backend({ s_alice: { subjects: ['alice'], seed: 7 } });
    await setup(fake, '?session=s_alice');
    sessions.delete('s_alice');
    await act(async () => {
      server.latest().end();
      await vi.advanceTimersByTimeAsync(5000);
    });
    expect(screen.getByTestId('session-gone')).toHaveTextContent('does not exist');
  });

  it('sends the tab token with the session calls, so the list holds the caller sessions', async () => {
    window.sessionStorage.setItem('biomock.token', 'tok-123');
    const seen: (string | null)[] = [];
    const { fake } = backend({});
    const spied: FakeFetch['fetch'] = (input, init) => {
      if (new URL(input, 'http://x').pathname === '/api/sessions') {
        seen.push((init?.headers as Record<string, string>).Authorization ?? null);
      }
      return fake.fetch(input, init);
    };
    await setup({ ...fake, fetch: spied });
    expect(seen).toContain('Bearer tok-123');
  });
});
