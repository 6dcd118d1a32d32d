import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SocketServer } from '../test/fakeSocket';
import type { EventSourceHandlers } from './useEventSource';
import { fakeFetch } from '../test/fakeFetch';
import type { StreamError } from './useEventSource';
import { SILENCE_MS } from './useEventSource';
import { CLOSE_STALLED, probeRefusal, useWebSocketStream, webSocketUrl } from './useWebSocketStream';

let server: SocketServer;

function setup(
  url: string | null,
  handlers: EventSourceHandlers = {},
  probe?: (url: string) => Promise<StreamError | null>,
) {
  return renderHook(
    ({ u }: { u: string | null }) =>
      useWebSocketStream(u, handlers, {
        createSocket: server.create,
        retryMs: 1000,
        now: () => Date.now(),
        random: () => 0.5,
        probe,
      }),
    { initialProps: { u: url } },
  );
}

const sample = (id: number): Record<string, unknown> => ({ id, type: 'heart_rate', value: 60 + id });

beforeEach(() => {
  server = new SocketServer();
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 1, 3, 10));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('useWebSocketStream', () => {
  it('does not connect without a URL', () => {
    const { result } = setup(null);
    expect(server.sockets).toHaveLength(0);
    expect(result.current.state).toBe('idle');
  });

  it('hands on each sample of a samples frame with its id, and reset frames', () => {
    const onMessage = vi.fn();
    const onReset = vi.fn();
    const { result } = setup('ws://h/api/ws', { onMessage, onReset });
    expect(result.current.state).toBe('connecting');
    act(() => server.latest().open());
    expect(result.current.state).toBe('open');
    act(() => {
      server.latest().frame({ type: 'reset', reason: 'unknown', oldest_id: null, newest_id: null });
      server.latest().frame({ type: 'samples', items: [sample(4), sample(5)] });
      server.latest().frame({ type: 'heartbeat', time: '2026-02-03T10:00:00.000Z' });
    });
    expect(onReset).toHaveBeenCalledTimes(1);
    expect(JSON.parse((onReset.mock.calls[0]?.[0] as { data: string }).data)).toMatchObject({
      reason: 'unknown',
    });
    expect(onMessage.mock.calls.map((c) => (c[0] as { id: string }).id)).toEqual(['4', '5']);
    expect(JSON.parse((onMessage.mock.calls[1]?.[0] as { data: string }).data)).toEqual(sample(5));
  });

  it.each([1001, 1008, 1013, 1006])(
    'after close %i reconnects with backoff and resumes after the newest id',
    async (code) => {
      const onOpen = vi.fn();
      const { result } = setup('ws://h/api/ws?types=steps', { onOpen });
      act(() => {
        server.latest().open();
        server.latest().frame({ type: 'samples', items: [sample(7)] });
        server.latest().serverClose(code);
      });
      expect(result.current.state).toBe('reconnecting');
      expect(result.current.retryAt).not.toBeNull();
      expect(server.sockets).toHaveLength(1);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(1000);
      });
      expect(server.sockets).toHaveLength(2);
      expect(server.latest().url).toBe('ws://h/api/ws?types=steps&last_event_id=7');
      act(() => server.latest().open());
      expect(onOpen).toHaveBeenLastCalledWith(true);
      expect(result.current.state).toBe('open');
    },
  );

  it('backs off further while attempts keep failing', async () => {
    setup('ws://h/api/ws');
    // Equal jitter at the middle: 750 ms after the first failure, 1500 ms after the second.
    act(() => server.latest().serverClose(1013));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(750);
    });
    act(() => server.latest().serverClose(1013));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1499);
    });
    expect(server.sockets).toHaveLength(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1);
    });
    expect(server.sockets).toHaveLength(3);
  });

  it('on close 4401 reports the token expired and does not reconnect', async () => {
    const { result } = setup('ws://h/api/ws');
    act(() => {
      server.latest().open();
      server.latest().serverClose(4401, 'token expired');
    });
    expect(result.current.error).toMatchObject({ status: 401, code: 'token_expired' });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(60_000);
    });
    expect(server.sockets).toHaveLength(1);
  });

  it('hands on garbage as it came, so it is counted as malformed, and stays open', () => {
    const onMessage = vi.fn();
    const { result } = setup('ws://h/api/ws', { onMessage });
    act(() => server.latest().open());
    act(() => {
      server.latest().raw('{"type":"samples","items":[{"value":61,"id":4,"ty');
      server.latest().raw('{"type":"samples","items":[{"value":61,"id":10');
      server.latest().frame({ type: 'samples', items: ['{"id": 5, "val', sample(6)] });
    });
    expect(onMessage.mock.calls.map((call) => call[0] as { data: string; id: string | null })).toEqual([
      { data: '{"type":"samples","items":[{"value":61,"id":4,"ty', id: '4', event: 'message' },
      // The cut may have broken the number off: no id is guessed.
      { data: '{"type":"samples","items":[{"value":61,"id":10', id: null, event: 'message' },
      { data: '{"id": 5, "val', id: null, event: 'message' },
      { data: JSON.stringify(sample(6)), id: '6', event: 'message' },
    ]);
    expect(result.current.state).toBe('open');
  });

  it('replaces a socket that went silent, resuming after the newest id', async () => {
    const { result } = setup('ws://h/api/ws');
    act(() => server.latest().open());
    act(() => server.latest().frame({ type: 'samples', items: [sample(8)] }));
    for (let i = 0; i < 3; i += 1) {
      await act(async () => {
        await vi.advanceTimersByTimeAsync(SILENCE_MS - 1000);
      });
      act(() => server.latest().frame({ type: 'heartbeat', time: '2026-02-03T10:00:00.000Z' }));
    }
    expect(server.sockets).toHaveLength(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SILENCE_MS);
    });
    const stalled = server.sockets[0];
    expect(stalled?.closedByClient).toBe(CLOSE_STALLED);
    expect(result.current.state).toBe('reconnecting');
    expect(result.current.error).toMatchObject({ code: 'stalled' });
    // Its late close does not count twice.
    act(() => stalled?.serverClose(1006));
    expect(result.current.failures).toBe(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(server.sockets).toHaveLength(2);
    expect(server.latest().url).toBe('ws://h/api/ws?last_event_id=8');
  });

  it('keeps an error frame as the error and stays open', () => {
    const { result } = setup('ws://h/api/ws');
    act(() => {
      server.latest().open();
      server.latest().frame({ type: 'error', error: { code: 'invalid_parameter', message: 'unknown type' } });
    });
    expect(result.current.state).toBe('open');
    expect(result.current.error).toMatchObject({ code: 'invalid_parameter', message: 'unknown type' });
  });

  it('closes the socket on unmount and ignores what arrives after', () => {
    const onMessage = vi.fn();
    const { unmount } = setup('ws://h/api/ws', { onMessage });
    const socket = server.latest();
    act(() => socket.open());
    unmount();
    expect(socket.closedByClient).toBe(1000);
    socket.frame({ type: 'samples', items: [sample(1)] });
    socket.serverClose(1001);
    expect(onMessage).not.toHaveBeenCalled();
    expect(server.sockets).toHaveLength(1);
  });
});

describe('a refused upgrade', () => {
  const busy: StreamError = {
    status: 503,
    code: 'too_many_subscribers',
    message: 'the subscriber limit (1) is reached; retry later',
    retryAfterMs: 5000,
  };

  it('is explained by the probe, and the next attempt waits for its Retry-After', async () => {
    const probe = vi.fn(async () => busy);
    const { result } = setup('ws://h/api/ws', {}, probe);
    act(() => server.latest().serverClose(1006));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(probe).toHaveBeenCalledWith('ws://h/api/ws');
    expect(result.current.error).toEqual(busy);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(4999);
    });
    expect(server.sockets).toHaveLength(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1);
    });
    expect(server.sockets).toHaveLength(2);
  });

  it('is not probed once the socket had opened', async () => {
    const probe = vi.fn(async () => busy);
    setup('ws://h/api/ws', {}, probe);
    act(() => {
      server.latest().open();
      server.latest().serverClose(1006);
    });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(probe).not.toHaveBeenCalled();
  });

  it('is read from the SSE route with the same query', async () => {
    const fake = fakeFetch({
      'GET /api/stream': (url) =>
        url.searchParams.get('types') === 'steps'
          ? { status: 200, body: {} }
          : {
              status: 503,
              body: { error: { code: 'too_many_subscribers', message: 'full' } },
              headers: { 'Retry-After': '5' },
            },
    });
    expect(await probeRefusal(fake.fetch, 'ws://127.0.0.1:8000/api/ws?types=steps')).toBeNull();
    expect(await probeRefusal(fake.fetch, 'ws://127.0.0.1:8000/api/ws?last_event_id=4')).toEqual({
      status: 503,
      code: 'too_many_subscribers',
      message: 'full',
      retryAfterMs: 5000,
      parameter: null,
    });
    expect(fake.calls.map((c) => c.url.href)).toEqual([
      'http://127.0.0.1:8000/api/stream?types=steps',
      'http://127.0.0.1:8000/api/stream?last_event_id=4',
    ]);
  });
});

describe('webSocketUrl', () => {
  it('maps the stream URL to /api/ws with the same query', () => {
    expect(webSocketUrl('/api/stream?access_token=t&last_event_id=3', 'http://127.0.0.1:8000')).toBe(
      'ws://127.0.0.1:8000/api/ws?access_token=t&last_event_id=3',
    );
    expect(webSocketUrl('https://staging.example/api/stream', 'http://localhost')).toBe(
      'wss://staging.example/api/ws',
    );
  });
});
