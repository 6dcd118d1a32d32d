/**
 * The dashboard's stream over the chosen transport: SSE (`useEventSource`) or
 * the WebSocket (`useWebSocketStream`), both given the same handlers, so the
 * store and the panels never know which one is in use. Only the chosen one
 * connects.
 */
import type { Api } from '../lib/api';
import type { Transport } from '../lib/urlState';
import { type EventSourceHandlers, type EventSourceStatus, useEventSource } from './useEventSource';
import { type SocketLike, probeRefusal, useWebSocketStream, webSocketUrl } from './useWebSocketStream';

export interface UseStreamOptions {
  now: () => number;
  /** For tests: makes the WebSocket. */
  createSocket?: (url: string) => SocketLike;
}

/** `streamUrl` is the SSE URL (`Api.streamUrl`); the WebSocket asks the same of `/api/ws`. */
export function useStream(
  api: Api,
  transport: Transport,
  streamUrl: string | null,
  handlers: EventSourceHandlers,
  { now, createSocket }: UseStreamOptions,
): EventSourceStatus {
  const sse = useEventSource(transport === 'sse' ? streamUrl : null, handlers, {
    fetchImpl: api.fetchImpl,
    now,
  });
  const ws = useWebSocketStream(
    transport === 'ws' && streamUrl !== null ? webSocketUrl(streamUrl, window.location.origin) : null,
    handlers,
    { now, createSocket, probe: (target) => probeRefusal(api.fetchImpl, target) },
  );
  return transport === 'ws' ? ws : sse;
}
