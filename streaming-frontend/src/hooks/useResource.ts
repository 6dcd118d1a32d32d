/**
 * Loads (and optionally polls) one backend resource while `enabled` (the page
 * is visible and the backend is thought reachable). A failure is retried with
 * exponential backoff and jitter, never sooner than the server's
 * `Retry-After`; a route that does not exist (404) is reported as `missing`
 * and not asked again, nor is a session that is gone. When it is enabled
 * again, a resource whose data is older than its poll period is loaded at once.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../lib/api';
import { backoffDelay } from '../lib/backoff';

export interface Resource<T> {
  data: T | null;
  error: ApiError | null;
  /** The route is not on this backend. */
  missing: boolean;
  /** Ask again now (after a change made through the API). */
  reload: () => void;
}

export interface ResourceOptions {
  /** Poll this often while it works; load once when absent. */
  pollMs?: number;
  /** The first retry delay after a failure. */
  retryMs?: number;
  /** False stops polling and retrying (a hidden tab, a backend known to be down). */
  enabled?: boolean;
  random?: () => number;
}

export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  options: ResourceOptions = {},
): Resource<T> {
  const loadRef = useRef(load);
  useLayoutEffect(() => {
    loadRef.current = load;
  });
  const randomRef = useRef(options.random);
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [generation, setGeneration] = useState(0);
  const loadedAt = useRef(Number.NEGATIVE_INFINITY);
  const { pollMs, retryMs = 2000, enabled = true } = options;

  useEffect(() => {
    if (!enabled) return undefined;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let failures = 0;
    const run = async (): Promise<void> => {
      let next: number | null = pollMs ?? null;
      try {
        const value = await loadRef.current(controller.signal);
        if (controller.signal.aborted) return;
        loadedAt.current = Date.now();
        failures = 0;
        setData(value);
        setError(null);
      } catch (caught) {
        if (controller.signal.aborted) return;
        const apiError = caught instanceof ApiError ? caught : new ApiError(0, 'unreachable', String(caught));
        setError(apiError);
        failures += 1;
        // A missing route, or a session that is gone, will not come back by asking again.
        next =
          apiError.missing || apiError.sessionGone
            ? null
            : backoffDelay(failures, {
                baseMs: retryMs,
                capMs: 30_000,
                retryAfterMs: apiError.retryAfterMs,
                random: randomRef.current,
              });
      }
      if (next !== null) timer = setTimeout(() => void run(), next);
    };
    // Fresh data from before a pause is kept until its poll is due.
    const age = Date.now() - loadedAt.current;
    const due = pollMs === undefined ? (loadedAt.current > 0 ? null : 0) : Math.max(0, pollMs - age);
    if (due !== null) timer = setTimeout(() => void run(), due);
    return () => {
      controller.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [generation, pollMs, retryMs, enabled]);

  const reload = useCallback(() => {
    loadedAt.current = Number.NEGATIVE_INFINITY;
    setGeneration((g) => g + 1);
  }, []);
  // The same object while nothing changed, so components given it can skip renders.
  return useMemo(() => ({ data, error, missing: error?.missing ?? false, reload }), [data, error, reload]);
}
