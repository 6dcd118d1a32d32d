/**
 * Loads (and optionally polls) one backend resource. A backend that cannot
 * be reached is retried every `retryMs` until it answers; a route that does
 * not exist (404) is reported as `missing` and not asked again.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../lib/api';

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
  retryMs?: number;
}

export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  options: ResourceOptions = {},
): Resource<T> {
  const loadRef = useRef(load);
  loadRef.current = load;
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [generation, setGeneration] = useState(0);
  const { pollMs, retryMs = 3000 } = options;

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const run = async (): Promise<void> => {
      let next: number | null = pollMs ?? null;
      try {
        const value = await loadRef.current(controller.signal);
        if (controller.signal.aborted) return;
        setData(value);
        setError(null);
      } catch (caught) {
        if (controller.signal.aborted) return;
        const apiError = caught instanceof ApiError ? caught : new ApiError(0, 'unreachable', String(caught));
        setError(apiError);
        next = apiError.missing ? null : Math.min(retryMs, pollMs ?? retryMs);
      }
      if (next !== null) timer = setTimeout(() => void run(), next);
    };
    void run();
    return () => {
      controller.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [generation, pollMs, retryMs]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, missing: error?.missing ?? false, reload };
}
