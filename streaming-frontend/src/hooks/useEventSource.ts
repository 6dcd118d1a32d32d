/**
 * `useEventSource(url | null)`: biomock's Server-Sent Events stream as a React hook.
 *
 * It reads the stream with `fetch` and `eventsource-parser` rather than the
 * browser's EventSource, because EventSource hides what a developer needs to
 * see and a client needs to obey: the HTTP status and JSON message of a refused
 * stream (a 503 at the subscriber limit), its `Retry-After`, and control over
 * the reconnection delay. Reconnection follows the server's `retry:` value,
 * backs off exponentially with jitter while attempts fail, never comes sooner
 * than `Retry-After`, and resumes with `last_event_id` after the newest id seen.
 *
 * A watchdog ends a stream that goes silent (no sample, not even the
 * server's keepalive comment) for `silenceMs`, and reconnects: a stalled
 * connection looks open but would never deliver again.
 *
 * Handlers are kept in a ref, so passing new functions on every render does
 * not reconnect; only a new `url` does. Cleanup aborts the request, and events
 * that arrive after it are ignored. The stream keeps running in a hidden tab.
 */
import { type EventSourceMessage, createParser } from 'eventsource-parser';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { backoffDelay, parseRetryAfter } from '../lib/backoff';
import { parseApiError } from '../lib/parse';

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting';

export interface StreamEvent {
  data: string;
  /** The event's `id:` field, if it had one. */
  id: string | null;
  /** `message`, or the event's name (`reset`). */
  event: string;
}

export interface EventSourceHandlers {
  /** Each default (`message`) event: one sample per event on biomock's stream. */
  onMessage?: (event: StreamEvent) => void;
  /** The named `reset` event: the server could not resume exactly where we were. */
  onReset?: (event: StreamEvent) => void;
  /** The stream is open; `reconnected` when it had been open or failed before. */
  onOpen?: (reconnected: boolean) => void;
}

/**
 * Why the last attempt failed: `status` 0 when the backend could not be
 * reached, 200 when a stream that was open ended or went silent.
 */
export interface StreamError {
  status: number;
  code: string;
  message: string;
  retryAfterMs: number | null;
  /** The request parameter the server blamed (`session` for a session that is gone). */
  parameter?: string | null;
}

/**
 * How long a stream may stay silent before the watchdog reconnects: three of
 * the server's keepalives at its default 15 s heartbeat (`BIOMOCK_HEARTBEAT_S`).
 */
export const SILENCE_MS = 45_000;

/** The error a watchdog reports for a stream silent for `ms`. */
export function stalledError(ms: number): StreamError {
  return {
    status: 200,
    code: 'stalled',
    message: `nothing arrived for ${Math.round(ms / 1000)} s, not even a keepalive`,
    retryAfterMs: null,
  };
}

export interface EventSourceStatus {
  state: ConnectionState;
  /** While reconnecting: when the next attempt is due (epoch ms). */
  retryAt: number | null;
  /** Failed attempts since the connection was last open. */
  failures: number;
  /** The id of the newest event received, as the next attempt resumes from it. */
  lastEventId: string | null;
  error: StreamError | null;
  /** The server's `retry:` value, ms, once it sent one. */
  serverRetryMs: number | null;
}

export interface UseEventSourceOptions {
  /** The first reconnection delay until the server sends `retry:`. */
  retryMs?: number;
  /** For tests: a stand-in for `fetch`. */
  fetchImpl?: (input: string, init?: RequestInit) => Promise<Response>;
  /** Wall clock in epoch ms, for the countdown. */
  now?: () => number;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** The watchdog: reconnect after this long without a byte (SILENCE_MS). */
  silenceMs?: number;
}

/** Both transports' status before a URL is given, and as a connection starts. */
export const IDLE: EventSourceStatus = {
  state: 'idle',
  retryAt: null,
  failures: 0,
  lastEventId: null,
  error: null,
  serverRetryMs: null,
};
export const CONNECTING: EventSourceStatus = { ...IDLE, state: 'connecting' };

/** `url` with `last_event_id` set to `id` (relative URLs stay relative). */
export function withLastEventId(url: string, id: string | null): string {
  if (id === null || id === '') return url;
  const parsed = new URL(url, 'http://relative.invalid');
  parsed.searchParams.set('last_event_id', id);
  return parsed.origin === 'http://relative.invalid'
    ? `${parsed.pathname}${parsed.search}${parsed.hash}`
    : parsed.href;
}

/** The JSON error (and `Retry-After`) of a refused stream. */
export async function refusal(response: Response): Promise<StreamError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // A proxy's HTML page or an empty body: the status says enough.
  }
  const error = parseApiError(body);
  return {
    status: response.status,
    code: error?.code ?? 'http_error',
    message: error?.message ?? `the stream answered ${response.status} ${response.statusText}`.trim(),
    retryAfterMs: parseRetryAfter(response.headers.get('Retry-After')),
    parameter: error?.parameter ?? null,
  };
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
  const optionsRef = useRef(options);
  useLayoutEffect(() => {
    optionsRef.current = options;
  });
  const baseRetryMs = options.retryMs ?? 3000;
  // The status belongs to one URL; a new URL starts out connecting.
  const [status, setStatus] = useState<{ url: string | null; value: EventSourceStatus }>({
    url: null,
    value: IDLE,
  });

  useEffect(() => {
    if (url === null) return undefined;
    const controller = new AbortController();
    const { signal } = controller;
    const fetchImpl = optionsRef.current.fetchImpl ?? ((input, init) => fetch(input, init));
    const now = (): number => (optionsRef.current.now ?? Date.now)();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let failures = 0;
    let wasOpen = false;
    let lastEventId: string | null = null;
    let serverRetryMs: number | null = null;
    const publish = (value: Partial<EventSourceStatus>): void =>
      setStatus({ url, value: { ...IDLE, failures, lastEventId, serverRetryMs, ...value } });

    const retry = (error: StreamError): void => {
      failures += 1;
      const delay = backoffDelay(failures, {
        baseMs: serverRetryMs ?? baseRetryMs,
        retryAfterMs: error.retryAfterMs,
        random: optionsRef.current.random,
      });
      publish({ state: 'reconnecting', retryAt: now() + delay, failures, error });
      timer = setTimeout(() => {
        timer = null;
        void connect();
      }, delay);
    };

    const onEvent = (message: EventSourceMessage): void => {
      if (signal.aborted) return;
      if (message.id !== undefined) lastEventId = message.id;
      const event: StreamEvent = {
        data: message.data,
        id: message.id ?? null,
        event: message.event ?? 'message',
      };
      if (event.event === 'message') handlersRef.current.onMessage?.(event);
      else if (event.event === 'reset') handlersRef.current.onReset?.(event);
    };

    const connect = async (): Promise<void> => {
      let response: Response;
      try {
        response = await fetchImpl(withLastEventId(url, lastEventId), {
          headers: { Accept: 'text/event-stream' },
          cache: 'no-store',
          signal,
        });
      } catch {
        if (!signal.aborted)
          retry({
            status: 0,
            code: 'unreachable',
            message: 'the backend cannot be reached',
            retryAfterMs: null,
          });
        return;
      }
      if (signal.aborted) return;
      if (!response.ok || response.body === null) {
        const error = await refusal(response);
        if (!signal.aborted) retry(error);
        return;
      }
      const reconnected = wasOpen || failures > 0;
      wasOpen = true;
      failures = 0;
      publish({ state: 'open' });
      handlersRef.current.onOpen?.(reconnected);
      const parser = createParser({
        onEvent,
        onRetry: (ms) => {
          serverRetryMs = ms;
        },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const silenceMs = optionsRef.current.silenceMs ?? SILENCE_MS;
      let watchdog: ReturnType<typeof setTimeout> | null = null;
      let stalled = false;
      const arm = (): void => {
        if (watchdog !== null) clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          stalled = true;
          // Ends the pending read (done) and, with it, the request.
          void reader.cancel().catch(() => undefined);
        }, silenceMs);
      };
      let ended = false;
      try {
        arm();
        for (;;) {
          const { done, value } = await reader.read();
          if (done || signal.aborted) {
            ended = done;
            break;
          }
          arm();
          parser.feed(value);
        }
      } catch {
        // The connection dropped mid-stream: reconnect below.
      } finally {
        if (watchdog !== null) clearTimeout(watchdog);
      }
      if (signal.aborted) return;
      if (stalled) retry(stalledError(silenceMs));
      else if (ended)
        // The server ended the response (a restart, `disconnect_after`): it was reachable.
        retry({ status: 200, code: 'ended', message: 'the server ended the stream', retryAfterMs: null });
      else retry({ status: 0, code: 'disconnected', message: 'the stream was cut', retryAfterMs: null });
    };

    void connect();
    return () => {
      controller.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [url, baseRetryMs]);

  if (url === null) return IDLE;
  return status.url === url ? status.value : CONNECTING;
}
