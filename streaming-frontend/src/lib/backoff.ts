/**
 * How long to wait before trying the backend again: exponential backoff with
 * jitter (so many dashboards do not come back in step), never sooner than the
 * server asked with `Retry-After`.
 */
export interface BackoffOptions {
  /** The first delay, ms: the stream's `retry:` value, or a default. */
  baseMs: number;
  /** The longest delay, ms. */
  capMs?: number;
  /** What the server asked for (`Retry-After`), ms. */
  retryAfterMs?: number | null;
  /** A number in [0, 1): `Math.random` outside tests. */
  random?: () => number;
}

/** The delay before attempt `failures + 1`, after `failures` (>= 1) failures in a row. */
export function backoffDelay(failures: number, options: BackoffOptions): number {
  const { baseMs, capMs = 60_000, retryAfterMs = null, random = Math.random } = options;
  const exponential = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  // "Equal jitter": half fixed, half random, so the delay still grows.
  const delay = exponential / 2 + (random() * exponential) / 2;
  return Math.round(Math.max(delay, retryAfterMs ?? 0));
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
