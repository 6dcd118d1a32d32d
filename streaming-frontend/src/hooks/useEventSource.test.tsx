import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEventSource, asEventSource } from '../test/fakeEventSource';
import { type EventSourceHandlers, useEventSource, withLastEventId } from './useEventSource';

const Impl = asEventSource();

function setup(url: string | null, handlers: EventSourceHandlers = {}) {
  return renderHook(
    ({ u, h }: { u: string | null; h: EventSourceHandlers }) =>
      useEventSource(u, h, { EventSourceImpl: Impl, retryMs: 3000, now: () => Date.now() }),
    { initialProps: { u: url, h: handlers } },
  );
}

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 1, 3, 10));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('useEventSource', () => {
  it('does not connect without a URL', () => {
    const { result } = setup(null);
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(result.current.state).toBe('idle');
  });

  it('connects, reports open and delivers messages', () => {
    const onMessage = vi.fn();
    const { result } = setup('/api/stream', { onMessage });
    expect(result.current.state).toBe('connecting');
    const source = FakeEventSource.latest();
    expect(source.url).toBe('/api/stream');
    act(() => source.open());
    expect(result.current.state).toBe('open');
    act(() => source.message('{"id": 1}', '1'));
    expect(onMessage).toHaveBeenCalledTimes(1);
    expect(onMessage.mock.calls[0]?.[0].data).toBe('{"id": 1}');
  });

  it('uses the newest handlers without reconnecting', () => {
    const first = vi.fn();
    const second = vi.fn();
    const { rerender } = setup('/api/stream', { onMessage: first });
    const source = FakeEventSource.latest();
    rerender({ u: '/api/stream', h: { onMessage: second } });
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(source.closed).toBe(false);
    act(() => source.message('x'));
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('passes the reset event on', () => {
    const onReset = vi.fn();
    setup('/api/stream', { onReset });
    act(() => FakeEventSource.latest().named('reset', '{"reason": "expired"}'));
    expect(onReset).toHaveBeenCalledTimes(1);
    expect(onReset.mock.calls[0]?.[0].data).toBe('{"reason": "expired"}');
  });

  it('closes on unmount and ignores late events', () => {
    const onMessage = vi.fn();
    const { unmount } = setup('/api/stream', { onMessage });
    const source = FakeEventSource.latest();
    unmount();
    expect(source.closed).toBe(true);
    source.message('late');
    source.named('reset', '{}');
    expect(onMessage).not.toHaveBeenCalled();
  });

  it('closes the old source when the URL changes', () => {
    const onMessage = vi.fn();
    const { rerender } = setup('/api/stream?subject=a', { onMessage });
    const old = FakeEventSource.latest();
    rerender({ u: '/api/stream?subject=b', h: { onMessage } });
    expect(old.closed).toBe(true);
    expect(FakeEventSource.latest().url).toBe('/api/stream?subject=b');
    old.message('stale');
    expect(onMessage).not.toHaveBeenCalled();
  });

  it('shows reconnecting with a countdown while the browser retries by itself', () => {
    const { result } = setup('/api/stream');
    const source = FakeEventSource.latest();
    act(() => source.open());
    act(() => source.drop());
    expect(result.current.state).toBe('reconnecting');
    expect(result.current.retryAt).toBe(Date.now() + 3000);
    expect(result.current.failures).toBe(1);
    // The browser keeps this source and reconnects it (with Last-Event-ID): no new one.
    act(() => vi.advanceTimersByTime(5000));
    expect(FakeEventSource.instances).toHaveLength(1);
    act(() => source.open());
    expect(result.current).toMatchObject({ state: 'open', retryAt: null, failures: 0 });
  });

  it('opens a new source resuming after the last id when the browser gives up', () => {
    const { result } = setup('/api/stream?types=heart_rate');
    const source = FakeEventSource.latest();
    act(() => source.open());
    act(() => source.message('{}', '41'));
    act(() => source.message('{}', '42'));
    act(() => source.fail());
    expect(result.current.state).toBe('reconnecting');
    expect(source.closed).toBe(true);
    act(() => vi.advanceTimersByTime(2999));
    expect(FakeEventSource.instances).toHaveLength(1);
    act(() => vi.advanceTimersByTime(1));
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.latest().url).toBe('/api/stream?types=heart_rate&last_event_id=42');
    expect(result.current.lastEventId).toBe('42');
  });

  it('does not retry after unmount', () => {
    const { unmount } = setup('/api/stream');
    act(() => FakeEventSource.latest().fail());
    unmount();
    act(() => vi.advanceTimersByTime(10_000));
    expect(FakeEventSource.instances).toHaveLength(1);
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
