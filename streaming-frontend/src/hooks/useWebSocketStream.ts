/**
 * `useWebSocketStream(url | null)`: biomock's `GET /api/ws` as a React hook,
 * with the same handlers and status as `useEventSource`, so the dashboard can
 * switch transports without the rest of it noticing.
 *
 * Each `samples` frame is handed on one sample at a time, as the SSE stream
 * delivers them; `reset` goes to `onReset`; `heartbeat` only shows the
 * connection is alive; an `error` frame is kept as the status's error. A
 * frame that is not JSON (a `malformed` fault) is handed on as it came, so it
 * is counted and shown like a malformed SSE event. A socket silent for
 * `silenceMs` (no frame, not even a heartbeat) is closed and replaced. A close
 * is followed by a reconnection with exponential backoff and jitter that
 * resumes with `last_event_id` after the newest id seen, except close 4401
 * (the token expired while connected): that one waits for a new token, since
 * the same URL would only be refused again.
 *
 * A refusal before the upgrade (400, 401, 503 at the subscriber limit) is
 * invisible to a browser WebSocket: it sees close 1006 and no status. So when a
 * socket closes without having opened, `probe` asks the server why (the
 * dashboard asks the SSE route the same question: one validation and one
 * subscriber limit serve both), and its answer, `Retry-After` included, is
 * what the user sees and what the next attempt waits for.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { backoffDelay } from '../lib/backoff';
import { parseApiError } from '../lib/parse';
import {
  CONNECTING,
  type EventSourceHandlers,
  type EventSourceStatus,
  IDLE,
  SILENCE_MS,
  type StreamError,
  refusal,
  stalledError,
  withLastEventId,
} from './useEventSource';

/** The part of the browser's WebSocket this hook uses, so tests can pass a fake. */
export interface SocketLike {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  close: (code?: number, reason?: string) => void;
}

export interface UseWebSocketStreamOptions {
  /** The first reconnection delay. */
  retryMs?: number;
  /** For tests: makes the socket (`new WebSocket(url)` in the browser). */
  createSocket?: (url: string) => SocketLike;
  /** Why a connection to this WebSocket URL is refused; null when it is not. */
  probe?: (url: string) => Promise<StreamError | null>;
  now?: () => number;
  random?: () => number;
  /** The watchdog: replace the socket after this long without a frame (SILENCE_MS). */
  silenceMs?: number;
}

/**
 * The id of a sample inside a frame cut short: `"id":N` followed by a comma or a
 * brace, so a number the cut broke off is never taken for an id.
 */
const BROKEN_ID = /"id":\s*(\d{1,16})\s*[,}]/;

/** The close code the dashboard uses for a socket its watchdog gave up on. */
export const CLOSE_STALLED = 4000;

/** The close code biomock sends when the connection's token expired. */
export const CLOSE_TOKEN_EXPIRED = 4401;

const CLOSE_REASONS: Record<number, string> = {
  1000: 'the server ended the stream',
  1001: 'the server went away (shutting down, or a disconnect_after fault)',
  1006: 'the connection was lost or refused',
  1008: 'the server cut the stream (too slow or lagged)',
  1011: 'the server hit an internal error',
  1013: 'the server is at capacity; try again later',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The error a close code stands for. */
export function closeError(code: number, reason: string): StreamError {
  if (code === CLOSE_TOKEN_EXPIRED) {
    return { status: 401, code: 'token_expired', message: 'the token expired', retryAfterMs: null };
  }
  const known = CLOSE_REASONS[code];
  const message = reason !== '' ? reason : (known ?? `the stream closed (${code})`);
  return { status: code === 1006 ? 0 : 200, code: `close_${code}`, message, retryAfterMs: null };
}

export function useWebSocketStream(
  url: string | null,
  handlers: EventSourceHandlers,
  options: UseWebSocketStreamOptions = {},
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
  const [status, setStatus] = useState<{ url: string | null; value: EventSourceStatus }>({
    url: null,
    value: IDLE,
  });

  useEffect(() => {
    if (url === null) return undefined;
    const create = optionsRef.current.createSocket ?? ((target: string) => new WebSocket(target));
    const now = (): number => (optionsRef.current.now ?? Date.now)();
    let closed = false;
    let socket: SocketLike | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let failures = 0;
    let wasOpen = false;
    let lastEventId: string | null = null;
    let frameError: StreamError | null = null;
    const publish = (value: Partial<EventSourceStatus>): void =>
      setStatus({ url, value: { ...IDLE, failures, lastEventId, ...value } });

    const onFrame = (text: string): void => {
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        // Garbage (a `malformed` fault, or a broken server): counted and shown, never thrown.
        // Its sample's id, when the cut left it whole, still counts as arrived (as SSE's `id:` does).
        const id = BROKEN_ID.exec(text)?.[1] ?? null;
        if (id !== null) lastEventId = id;
        handlersRef.current.onMessage?.({ data: text, id, event: 'message' });
        return;
      }
      if (!isObject(frame)) return;
      if (frame.type === 'samples' && Array.isArray(frame.items)) {
        for (const item of frame.items) {
          const id = isObject(item) && typeof item.id === 'number' ? String(item.id) : null;
          if (id !== null) lastEventId = id;
          // An item that is a string is data as sent (a malformed sample): hand it on unquoted.
          const data = typeof item === 'string' ? item : JSON.stringify(item);
          handlersRef.current.onMessage?.({ data, id, event: 'message' });
        }
      } else if (frame.type === 'reset') {
        handlersRef.current.onReset?.({ data: text, id: null, event: 'reset' });
      } else if (frame.type === 'error') {
        const body = parseApiError(frame);
        frameError = {
          status: 200,
          code: body?.code ?? 'error',
          message: body?.message ?? 'the server sent an error frame',
          retryAfterMs: null,
        };
        publish({ state: 'open', error: frameError });
      }
      // `heartbeat` frames only show the connection is alive.
    };

    const retry = (error: StreamError): void => {
      const delay = backoffDelay(failures, {
        baseMs: baseRetryMs,
        retryAfterMs: error.retryAfterMs,
        random: optionsRef.current.random,
      });
      publish({ state: 'reconnecting', retryAt: now() + delay, failures, error });
      timer = setTimeout(() => {
        timer = null;
        connect();
      }, delay);
    };

    const explain = async (target: string, fallback: StreamError): Promise<void> => {
      let error = fallback;
      try {
        error = (await optionsRef.current.probe?.(target)) ?? fallback;
      } catch {
        // The probe failed too: the close says enough.
      }
      if (!closed) retry(error);
    };

    const silenceMs = optionsRef.current.silenceMs ?? SILENCE_MS;
    let watchdog: ReturnType<typeof setTimeout> | null = null;
    const disarm = (): void => {
      if (watchdog !== null) clearTimeout(watchdog);
      watchdog = null;
    };

    const connect = (): void => {
      const target = withLastEventId(url, lastEventId);
      const ws = create(target);
      let opened = false;
      socket = ws;
      const arm = (): void => {
        disarm();
        watchdog = setTimeout(() => {
          watchdog = null;
          if (closed || socket !== ws) return;
          // Given up on: its late events must not count, so it is forgotten before it closes.
          ws.onopen = null;
          ws.onmessage = null;
          ws.onclose = null;
          socket = null;
          ws.close(CLOSE_STALLED, 'silent too long');
          failures += 1;
          retry(stalledError(silenceMs));
        }, silenceMs);
      };
      ws.onopen = () => {
        if (closed) return;
        arm();
        opened = true;
        const reconnected = wasOpen || failures > 0;
        wasOpen = true;
        failures = 0;
        publish({ state: 'open' });
        handlersRef.current.onOpen?.(reconnected);
      };
      ws.onmessage = (event) => {
        if (closed) return;
        arm();
        if (typeof event.data === 'string') onFrame(event.data);
      };
      ws.onclose = (event) => {
        if (closed) return;
        disarm();
        socket = null;
        const error = closeError(event.code, event.reason);
        failures += 1;
        if (event.code === CLOSE_TOKEN_EXPIRED) {
          publish({ state: 'reconnecting', failures, error });
          return;
        }
        if (!opened && optionsRef.current.probe !== undefined) void explain(target, error);
        else retry(error);
      };
    };

    connect();
    return () => {
      closed = true;
      disarm();
      if (timer !== null) clearTimeout(timer);
      socket?.close(1000, 'closed by the dashboard');
    };
  }, [url, baseRetryMs]);

  if (url === null) return IDLE;
  return status.url === url ? status.value : CONNECTING;
}

/** The SSE stream URL that asks what `wsUrl` asks (the inverse of `webSocketUrl`). */
export function streamUrlOf(wsUrl: string): string {
  const parsed = new URL(wsUrl);
  parsed.protocol = parsed.protocol === 'wss:' ? 'https:' : 'http:';
  parsed.pathname = parsed.pathname.replace(/\/api\/ws$/, '/api/stream');
  return parsed.href;
}

/**
 * Asks the SSE route whether it would refuse what `wsUrl` asks, reading only
 * the status and, on a refusal, its JSON error; an accepted stream is dropped
 * at once.
 */
export async function probeRefusal(
  fetchImpl: (input: string, init?: RequestInit) => Promise<Response>,
  wsUrl: string,
): Promise<StreamError | null> {
  const controller = new AbortController();
  try {
    const response = await fetchImpl(streamUrlOf(wsUrl), {
      headers: { Accept: 'text/event-stream' },
      cache: 'no-store',
      signal: controller.signal,
    });
    return response.ok ? null : await refusal(response);
  } finally {
    controller.abort();
  }
}

/** The WebSocket URL for an SSE stream URL: same query, `/api/ws`, `ws:`/`wss:`. */
export function webSocketUrl(streamUrl: string, origin: string): string {
  const parsed = new URL(streamUrl, origin);
  parsed.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
  parsed.pathname = parsed.pathname.replace(/\/api\/stream$/, '/api/ws');
  return parsed.href;
}
