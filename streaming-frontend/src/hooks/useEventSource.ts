/**
 * `useEventSource(url | null)`: the browser's EventSource as a React hook.
 *
 * Handlers are kept in a ref, so passing new functions on every render does
 * not reconnect; only a new `url` does. Cleanup closes the source, and events
 * that arrive after it are ignored. After a dropped connection the browser
 * reconnects by itself, sending `Last-Event-ID`, after the stream's `retry:`
 * delay; the hook only steps in when the browser gives up for good (an HTTP
 * error, such as a proxy's 502 while the backend is down), opening a new
 * source that resumes with `last_event_id=` after the newest id it saw.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting';

export interface EventSourceHandlers {
  /** Each default (`message`) event: one sample per event on biomock's stream. */
  onMessage?: (event: MessageEvent<string>) => void;
  /** The named `reset` event: the server could not resume exactly where we were. */
  onReset?: (event: MessageEvent<string>) => void;
}

export interface EventSourceStatus {
  state: ConnectionState;
  /** While reconnecting: when the next attempt is due (epoch ms). */
  retryAt: number | null;
  /** Failed attempts since the connection was last open. */
  failures: number;
  /** The id of the newest event received, as the browser will resume from it. */
  lastEventId: string | null;
}

export interface UseEventSourceOptions {
  /** The reconnection delay; the stream's `retry:` field (3000 ms by default). */
  retryMs?: number;
  /** For tests: a stand-in for the browser's EventSource. */
  EventSourceImpl?: typeof EventSource;
  /** Wall clock in epoch ms, for the countdown. */
  now?: () => number;
}

const CLOSED = 2;

const IDLE: EventSourceStatus = { state: 'idle', retryAt: null, failures: 0, lastEventId: null };

/** `url` with `last_event_id` set to `id` (relative URLs stay relative). */
export function withLastEventId(url: string, id: string | null): string {
  if (id === null || id === '') return url;
  const parsed = new URL(url, 'http://relative.invalid');
  parsed.searchParams.set('last_event_id', id);
  return parsed.origin === 'http://relative.invalid'
    ? `${parsed.pathname}${parsed.search}${parsed.hash}`
    : parsed.href;
}

export function useEventSource(
  url: string | null,
  handlers: EventSourceHandlers,
  options: UseEventSourceOptions = {},
): EventSourceStatus {
  const handlersRef = useRef(handlers);
  useLayoutEffect(() => {
    handlersRef.current = handlers;
  });
  const nowRef = useRef(options.now ?? Date.now);
  const retryMs = options.retryMs ?? 3000;
  const Impl = options.EventSourceImpl ?? globalThis.EventSource;
  const [status, setStatus] = useState<EventSourceStatus>(IDLE);

  useEffect(() => {
    if (url === null) {
      setStatus(IDLE);
      return undefined;
    }
    let active = true;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let lastEventId: string | null = null;
    let failures = 0;

    const connect = (target: string): void => {
      const es = new Impl(target);
      source = es;
      const current = (): boolean => active && source === es;
      es.onopen = () => {
        if (!current()) return;
        failures = 0;
        setStatus({ state: 'open', retryAt: null, failures, lastEventId });
      };
      es.onmessage = (event: MessageEvent<string>) => {
        if (!current()) return;
        if (event.lastEventId !== '') lastEventId = event.lastEventId;
        handlersRef.current.onMessage?.(event);
      };
      es.addEventListener('reset', (event: Event) => {
        if (!current()) return;
        handlersRef.current.onReset?.(event as MessageEvent<string>);
      });
      es.onerror = () => {
        if (!current()) return;
        failures += 1;
        if (es.readyState === CLOSED) {
          es.close();
          timer = setTimeout(() => {
            timer = null;
            if (active) connect(withLastEventId(url, lastEventId));
          }, retryMs);
        }
        setStatus({ state: 'reconnecting', retryAt: nowRef.current() + retryMs, failures, lastEventId });
      };
    };

    setStatus({ state: 'connecting', retryAt: null, failures: 0, lastEventId: null });
    connect(url);
    return () => {
      active = false;
      if (timer !== null) clearTimeout(timer);
      source?.close();
      source = null;
    };
  }, [url, retryMs, Impl]);

  return status;
}
