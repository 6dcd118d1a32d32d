import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { AuthGate } from './AuthGate';
import { Api } from './lib/api';
import { TokenStore } from './lib/auth';
import { Store } from './lib/store';
import { type FakeFetch, fakeFetch } from './test/fakeFetch';
import { SocketServer } from './test/fakeSocket';
import { StreamServer, sampleJson } from './test/fakeStream';

vi.mock('uplot', async () => ({ default: (await import('./test/fakeUPlot')).FakeUPlot }));

/** Tokens this fake server knows, and their scopes. */
const TOKENS: Record<string, string[]> = { 'read-token': ['read'], 'control-token': ['read', 'control'] };
const UNAUTHORIZED = { error: { code: 'unauthorized', message: 'a token is needed' } };

let server: StreamServer;
let expired: Set<string>;

function tokenOf(url: URL, init: RequestInit | undefined): string | null {
  const header = (init?.headers as Record<string, string> | undefined)?.Authorization;
  return header?.replace(/^Bearer /, '') ?? url.searchParams.get('access_token');
}

/** Every route answers 401 without a known, unexpired token. */
function backend(): FakeFetch {
  const guarded =
    (answer: (token: string, url: URL, init: RequestInit | undefined) => unknown) =>
    (url: URL, init: RequestInit | undefined) => {
      const token = tokenOf(url, init);
      if (token === null || TOKENS[token] === undefined || expired.has(token)) {
        return { status: 401, body: UNAUTHORIZED, headers: { 'WWW-Authenticate': 'Bearer realm="biomock"' } };
      }
      const body = answer(token, url, init);
      return body instanceof Promise ? body : { body };
    };
  return fakeFetch({
    'GET /api/whoami': guarded((token) => ({
      authentication: true,
      name: token.replace('-token', ''),
      scopes: TOKENS[token],
      expires_at: null,
    })),
    'GET /api/history': guarded(() => ({ items: [sampleJson({ id: 1, value: 60 })], next_after_id: null })),
    'GET /api/stream': guarded((_t, url, init) => server.fetch(url.pathname + url.search, init)),
    'GET /api/stats': guarded(() => ({
      subscribers: 1,
      published: 1,
      delivered: 1,
      dropped_slow: 0,
      buffer: { size: 1, capacity: 10, oldest_id: 1, newest_id: 1 },
      uptime_s: 1,
    })),
    'GET /api/types': guarded(() => [{ name: 'heart_rate', unit: 'count/min', kind: 'quantity' }]),
    'GET /api/subjects': guarded(() => [{ name: 'default', scenario: 'rest' }]),
    'GET /api/scenarios': guarded(() => [{ name: 'rest', description: 'Sitting quietly' }]),
    'GET /api/clock': guarded(() => ({ speed: 1, paused: false, now: new Date(Date.now()).toISOString() })),
  });
}

async function settle(ms = 0): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

async function setup(fake: FakeFetch) {
  const store = new Store({ requestFrame: () => 0 });
  render(
    <AuthGate
      store={store}
      api={new Api('', fake.fetch)}
      tokens={new TokenStore(window.sessionStorage)}
      onViewChange={() => undefined}
    />,
  );
  await settle();
  await settle();
  return store;
}

async function enterToken(token: string): Promise<void> {
  fireEvent.change(screen.getByTestId('token-input'), { target: { value: token } });
  fireEvent.click(screen.getByTestId('token-submit'));
  await settle();
  await settle();
}

beforeEach(() => {
  server = new StreamServer();
  expired = new Set();
  window.sessionStorage.clear();
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 1, 3, 10));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the token prompt', () => {
  it('asks for a token on 401, then shows who it is and hides the controls a read-only token cannot use', async () => {
    const fake = backend();
    await setup(fake);
    expect(screen.getByTestId('token-why')).toHaveTextContent('needs an access token');
    await enterToken('read-token');
    expect(screen.queryByTestId('token-prompt')).toBeNull();
    expect(window.sessionStorage.getItem('biomock.token')).toBe('read-token');
    expect(screen.getByTestId('identity')).toHaveTextContent('token read (read)');
    expect(screen.getByTestId('no-control')).toBeInTheDocument();
    expect(screen.queryByTestId('switch-scenario')).toBeNull();
    expect(server.latest().url).toContain('access_token=read-token');
  });

  it('offers the scenario controls to a token with the control scope', async () => {
    window.sessionStorage.setItem('biomock.token', 'control-token');
    await setup(backend());
    expect(screen.queryByTestId('token-prompt')).toBeNull();
    expect(screen.getByTestId('identity')).toHaveTextContent('token control (read, control)');
    expect(screen.getByTestId('switch-scenario')).toBeInTheDocument();
  });

  it('says the token was refused when the server never accepted it', async () => {
    await setup(backend());
    await enterToken('wrong-token');
    expect(screen.getByTestId('token-why')).toHaveTextContent('did not accept that token');
  });

  it('says clearly when a token that worked has expired', async () => {
    window.sessionStorage.setItem('biomock.token', 'read-token');
    await setup(backend());
    expect(screen.getByTestId('identity')).toBeInTheDocument();
    expired.add('read-token');
    await settle(2500); // the next stats poll is refused
    expect(screen.getByTestId('token-why')).toHaveTextContent('Your token expired');
  });
});

describe('the WebSocket transport', () => {
  it('reports a 4401 close as an expired token', async () => {
    const sockets = new SocketServer();
    const failures: [string, boolean][] = [];
    render(
      <App
        store={new Store({ requestFrame: () => 0 })}
        api={new Api('', fakeFetch({}).fetch)}
        search="?transport=ws"
        onViewChange={() => undefined}
        createSocket={sockets.create}
        onAuthFailure={(code, hadWorked) => failures.push([code, hadWorked])}
      />,
    );
    await settle();
    await settle();
    expect(sockets.latest().url).toMatch(/^ws:\/\/[^/]+\/api\/ws$/);
    act(() => {
      sockets.latest().open();
      sockets.latest().serverClose(4401);
    });
    await settle();
    expect(failures).toContainEqual(['token_expired', false]);
  });

  it('switches from SSE to WebSocket, resuming after the newest sample held', async () => {
    const sockets = new SocketServer();
    const views: string[] = [];
    const store = new Store({ requestFrame: () => 0 });
    const fake = backend();
    window.sessionStorage.setItem('biomock.token', 'read-token');
    render(
      <AuthGate
        store={store}
        api={new Api('', fake.fetch)}
        tokens={new TokenStore(window.sessionStorage)}
        onViewChange={(s) => views.push(s)}
        createSocket={sockets.create}
      />,
    );
    await settle();
    await settle();
    await act(async () => {
      server.latest().sample(sampleJson({ id: 2, value: 61 }));
      await vi.advanceTimersByTimeAsync(0);
    });
    const sse = server.latest();
    fireEvent.change(screen.getByTestId('transport'), { target: { value: 'ws' } });
    await settle();
    expect(sse.closed).toBe(true);
    expect(sockets.latest().url).toMatch(/\/api\/ws\?last_event_id=2&access_token=read-token$/);
    expect(views.at(-1)).toBe('?transport=ws');
    act(() => {
      sockets.latest().open();
      sockets.latest().frame({ type: 'samples', items: [sampleJson({ id: 3, value: 62 })] });
    });
    expect(store.lastId()).toBe(3);
  });
});
