import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StreamServer } from '../test/fakeStream';
import { type EventSourceHandlers, SILENCE_MS, useEventSource, withLastEventId } from './useEventSource';

let server: StreamServer;

function setup(url: string | null, handlers: EventSourceHandlers = {}, random = () => 0.5) {
  return renderHook(
    ({ u, h }: { u: string | null; h: EventSourceHandlers }) =>
      useEventSource(u, h, { fetchImpl: server.fetch, retryMs: 3000, now: () => Date.now(), random }),
    { initialProps: { u: url, h: handlers } },
  );
}

/** Lets the fetch and the stream reader run (they are promise chains). */
async function settle(): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(0);
  });
}

async function advance(ms: number): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

beforeEach(() => {
  server = new StreamServer();
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 1, 3, 10));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('useEventSource', () => {
  it('does not connect without a URL', () => {
    const { result } = setup(null);
    expect(server.requests).toHaveLength(0);
    expect(result.current.state).toBe('idle');
  });

  it('connects, reports open and delivers messages with their ids', async () => {
    const onMessage = vi.fn();
    const { result } = setup('/api/stream', { onMessage });
    expect(result.current.state).toBe('connecting');
    await settle();
    expect(result.current.state).toBe('open');
    expect(server.latest().url).toBe('/api/stream');
    await act(async () => {
      server.latest().message('{"id": 1}', '1');
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(onMessage).toHaveBeenCalledTimes(1);
    expect(onMessage.mock.calls[0]?.[0]).toEqual({ data: '{"id": 1}', id: '1', event: 'message' });
  });

  it('uses the newest handlers without reconnecting', async () => {
    const first = vi.fn();
    const second = vi.fn();
    const { rerender } = setup('/api/stream', { onMessage: first });
    await settle();
    rerender({ u: '/api/stream', h: { onMessage: second } });
    expect(server.requests).toHaveLength(1);
    await act(async () => {
      server.latest().message('x');
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('passes the reset event on', async () => {
    const onReset = vi.fn();
    setup('/api/stream', { onReset });
    await settle();
    await act(async () => {
      server.latest().named('reset', '{"reason": "expired"}');
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(onReset).toHaveBeenCalledTimes(1);
    expect(onReset.mock.calls[0]?.[0].data).toBe('{"reason": "expired"}');
  });

  it('closes on unmount and ignores late events', async () => {
    const onMessage = vi.fn();
    const { unmount } = setup('/api/stream', { onMessage });
    await settle();
    const connection = server.latest();
    unmount();
    expect(connection.closed).toBe(true);
    connection.message('late');
    await settle();
    expect(onMessage).not.toHaveBeenCalled();
  });

  it("shows a refused stream's status and message, and waits as long as Retry-After says", async () => {
    server.refuse({
      status: 503,
      body: { error: { code: 'too_many_subscribers', message: 'the server has 100 subscribers, its limit' } },
      headers: { 'Retry-After': '5' },
    });
    const { result } = setup('/api/stream');
    await settle();
    expect(result.current.state).toBe('reconnecting');
    expect(result.current.error).toEqual({
      status: 503,
      code: 'too_many_subscribers',
      message: 'the server has 100 subscribers, its limit',
      retryAfterMs: 5000,
      parameter: null,
    });
    // The backoff alone would retry after 1.5-3 s; the server asked for 5 s.
    expect(result.current.retryAt).toBe(Date.now() + 5000);
    await advance(4999);
    expect(server.requests).toHaveLength(1);
    await advance(1);
    expect(server.requests).toHaveLength(2);
    expect(result.current.state).toBe('open');
    expect(result.current.error).toBeNull();
  });

  it("backs off with jitter from the server's retry: value while attempts fail", async () => {
    const { result } = setup('/api/stream', {}, () => 0);
    await settle();
    await act(async () => {
      server.latest().retry(1000);
      server.latest().message('{}', '42');
      await vi.advanceTimersByTimeAsync(0);
    });
    server.refuse('down', 'down', 'down');
    const delays: number[] = [];
    await act(async () => {
      server.latest().end();
      await vi.advanceTimersByTimeAsync(0);
    });
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const due = result.current.retryAt ?? 0;
      delays.push(due - Date.now());
      await advance(due - Date.now());
    }
    // Equal jitter at its low end: half of 1 s, 2 s, 4 s, 8 s, from the server's retry: 1000.
    expect(delays).toEqual([500, 1000, 2000, 4000]);
    expect(result.current.state).toBe('open');
    expect(server.latest().url).toBe('/api/stream?last_event_id=42');
  });

  it('spreads the retries of clients that failed together', async () => {
    server.refuse('down', 'down');
    const first = setup('/api/stream', {}, () => 0.1);
    const second = setup('/api/stream', {}, () => 0.9);
    await settle();
    await settle();
    const a = first.result.current.retryAt;
    const b = second.result.current.retryAt;
    expect(a).not.toBeNull();
    expect(a).not.toBe(b);
  });

  it('reconnects after a stream that went silent, and resumes after the newest id', async () => {
    const { result } = setup('/api/stream');
    await settle();
    await act(async () => {
      server.latest().message('{}', '7');
      await vi.advanceTimersByTimeAsync(0);
    });
    // Keepalives are signs of life: no reconnection while they come.
    for (let i = 0; i < 4; i += 1) {
      await advance(SILENCE_MS - 1000);
      await act(async () => {
        server.latest().write(': keepalive\n\n');
        await vi.advanceTimersByTimeAsync(0);
      });
    }
    expect(server.connections).toHaveLength(1);
    // Then a stall (`stall_after`): the connection stays open but nothing comes.
    await advance(SILENCE_MS);
    expect(result.current.state).toBe('reconnecting');
    expect(result.current.error).toMatchObject({ status: 200, code: 'stalled' });
    expect(result.current.error?.message).toContain('45 s');
    await advance(3000);
    expect(server.connections).toHaveLength(2);
    expect(server.latest().url).toBe('/api/stream?last_event_id=7');
    expect(result.current.state).toBe('open');
  });

  it('tells a stream the server ended (disconnect_after) from a backend that is gone', async () => {
    const { result } = setup('/api/stream');
    await settle();
    await act(async () => {
      server.latest().message('{}', '3');
      server.latest().end();
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(result.current.state).toBe('reconnecting');
    expect(result.current.error).toMatchObject({ status: 200, code: 'ended' });
    await advance(3000);
    expect(server.latest().url).toBe('/api/stream?last_event_id=3');
    expect(result.current.state).toBe('open');
  });

  it('keeps the parameter a refusal blames (a session that is gone)', async () => {
    server.refuse({
      status: 404,
      body: { error: { code: 'not_found', message: 'unknown session', parameter: 'session' } },
    });
    const { result } = setup('/api/stream?session=s_x');
    await settle();
    expect(result.current.error).toMatchObject({ status: 404, parameter: 'session' });
  });

  it('does not retry after unmount', async () => {
    server.refuse('down');
    const { unmount } = setup('/api/stream');
    await settle();
    unmount();
    await advance(60_000);
    expect(server.requests).toHaveLength(1);
  });
});

describe('withLastEventId', () => {
  it('sets last_event_id on relative and absolute URLs', () => {
    expect(withLastEventId('/api/stream', '7')).toBe('/api/stream?last_event_id=7');
    expect(withLastEventId('/api/stream?last_event_id=3', '7')).toBe('/api/stream?last_event_id=7');
    expect(withLastEventId('http://127.0.0.1:8000/api/stream', '7')).toBe(
      'http://127.0.0.1:8000/api/stream?last_event_id=7',
    );
    expect(withLastEventId('/api/stream', null)).toBe('/api/stream');
  });
});
