/** Health checks that know the contract: cadence observed against the catalogue's, and quiet types. */
import type { RingView } from './ring';

/** The median spacing (seconds of sample time) of the newest points; null with fewer than 3. */
export function observedCadence(view: RingView, newest = 64): number | null {
  const times = view.times();
  const n = times.length;
  if (n < 3) return null;
  const from = Math.max(1, n - newest);
  const gaps: number[] = [];
  for (let i = from; i < n; i += 1) gaps.push((times[i] ?? 0) - (times[i - 1] ?? 0));
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)] ?? null;
}

/**
 * How long (ms) a type has been quiet beyond what its cadence allows: three
 * periods of wall time at the clock's speed, and never less than 15 s; null
 * while it is on time, when its cadence is unknown or the clock is paused.
 */
export function staleFor(
  lastArrival: number,
  cadenceS: number | null,
  speed: number | null,
  paused: boolean,
  now: number,
): number | null {
  if (cadenceS === null || paused || Number.isNaN(lastArrival)) return null;
  const allowed = Math.max(15_000, (3 * cadenceS * 1000) / Math.max(speed ?? 1, 1e-9));
  const quiet = now - lastArrival;
  return quiet > allowed ? quiet : null;
}

/** The span (seconds) a ring of `capacity` points holds at the observed cadence. */
export function holdableSpan(view: RingView): number | null {
  const n = view.length;
  if (n < 2) return null;
  const times = view.times();
  const spacing = ((times[n - 1] ?? 0) - (times[0] ?? 0)) / (n - 1);
  return spacing > 0 ? spacing * view.capacity : null;
}
