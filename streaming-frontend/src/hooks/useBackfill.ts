/**
 * Fills the store from `/api/history` (page by page, following
 * `next_after_id`), then hands out the stream URL that resumes right after the
 * newest sample loaded, so history and live data meet with no gap and no
 * duplicate. A failure (the backend down, or an HTTP error, shown with its
 * status and message) is retried with backoff and jitter, never sooner than
 * the server's `Retry-After`.
 */
import { useEffect, useState } from 'react';
import { type Api, ApiError } from '../lib/api';
import { backoffDelay } from '../lib/backoff';
import type { Store } from '../lib/store';

export interface Backfill {
  /** Null until history is in; then the stream to open. */
  streamUrl: string | null;
  /** History samples taken in. */
  loaded: number;
  error: ApiError | null;
  /** While failing: when the next attempt is due (epoch ms). */
  retryAt: number | null;
}

/** At most this many pages: the backend buffers 10,000 samples by default. */
const MAX_PAGES = 100;

export function useBackfill(
  api: Api,
  store: Store,
  retryMs = 2000,
  random: () => number = Math.random,
): Backfill {
  const [state, setState] = useState<Backfill>({ streamUrl: null, loaded: 0, error: null, retryAt: null });

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let failures = 0;
    const run = async (): Promise<void> => {
      let loaded = 0;
      try {
        let afterId: number | null = store.lastId();
        for (let page = 0; page < MAX_PAGES; page += 1) {
          const result = await api.history({ afterId, limit: 10_000 }, controller.signal);
          if (controller.signal.aborted) return;
          loaded += store.ingestHistory(result.items);
          if (result.nextAfterId === null) break;
          afterId = result.nextAfterId;
        }
      } catch (caught) {
        if (controller.signal.aborted) return;
        const error = caught instanceof ApiError ? caught : new ApiError(0, 'unreachable', String(caught));
        if (error.sessionGone) {
          // The session is gone for good: no stream to open, nothing to retry.
          setState({ streamUrl: null, loaded, error, retryAt: null });
          return;
        }
        if (!error.missing) {
          failures += 1;
          const delay = backoffDelay(failures, {
            baseMs: retryMs,
            capMs: 30_000,
            retryAfterMs: error.retryAfterMs,
            random,
          });
          setState({ streamUrl: null, loaded, error, retryAt: Date.now() + delay });
          timer = setTimeout(() => void run(), delay);
          return;
        }
        // No history route on this backend: the live stream alone will do.
      }
      setState({ streamUrl: api.streamUrl(store.lastId()), loaded, error: null, retryAt: null });
    };
    void run();
    return () => {
      controller.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [api, store, retryMs, random]);

  return state;
}
