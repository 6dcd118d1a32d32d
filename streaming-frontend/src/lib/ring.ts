/**
 * A fixed-capacity ring of samples, stored column-wise in typed arrays.
 *
 * Every column is written twice, at `i` and at `i + capacity`, so the live
 * window (oldest to newest) is always one contiguous slice: reading it for a
 * chart is a `subarray`, never a copy or an allocation proportional to size.
 * Views returned by `times()`, `values()`, `starts()` and `ids()` are valid
 * until the next `push` or `clear`; keep a copy if it must outlive that.
 */
/** What charts and tiles read: a live ring, or a frozen copy of one while the view is paused. */
export interface RingView {
  readonly capacity: number;
  readonly length: number;
  readonly version: number;
  times(): Float64Array;
  values(): Float64Array;
  starts(): Float64Array;
  ids(): Float64Array;
  lastTime(): number;
  lastValue(): number;
}

/** A copy of a ring's points at one moment; it never changes. */
export class FrozenRing implements RingView {
  readonly capacity: number;
  readonly length: number;
  readonly version: number;
  private readonly t: Float64Array;
  private readonly v: Float64Array;
  private readonly s: Float64Array;
  private readonly id: Float64Array;

  constructor(ring: RingView) {
    this.capacity = ring.capacity;
    this.length = ring.length;
    this.version = ring.version;
    this.t = ring.times().slice();
    this.v = ring.values().slice();
    this.s = ring.starts().slice();
    this.id = ring.ids().slice();
  }

  times(): Float64Array {
    return this.t;
  }

  values(): Float64Array {
    return this.v;
  }

  starts(): Float64Array {
    return this.s;
  }

  ids(): Float64Array {
    return this.id;
  }

  lastTime(): number {
    return this.t[this.length - 1] ?? Number.NaN;
  }

  lastValue(): number {
    return this.v[this.length - 1] ?? Number.NaN;
  }
}

export class Ring implements RingView {
  readonly capacity: number;
  private readonly t: Float64Array;
  private readonly v: Float64Array;
  private readonly s: Float64Array;
  private readonly id: Float64Array;
  private head = 0;
  private size = 0;
  /** Increases on every change, so views can tell whether to redraw. */
  version = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.t = new Float64Array(capacity * 2);
    this.v = new Float64Array(capacity * 2);
    this.s = new Float64Array(capacity * 2);
    this.id = new Float64Array(capacity * 2);
  }

  get length(): number {
    return this.size;
  }

  /**
   * Appends one point; when full, the oldest point is dropped.
   *
   * @param id the sample's id
   * @param time the sample's time in seconds (uPlot's time unit)
   * @param value the value (a category's index for category types)
   * @param start the interval's start in seconds, NaN when it has none
   */
  push(id: number, time: number, value: number, start = Number.NaN): void {
    const cap = this.capacity;
    let slot: number;
    if (this.size < cap) {
      slot = (this.head + this.size) % cap;
      this.size += 1;
    } else {
      slot = this.head;
      this.head = (this.head + 1) % cap;
    }
    this.t[slot] = time;
    this.t[slot + cap] = time;
    this.v[slot] = value;
    this.v[slot + cap] = value;
    this.s[slot] = start;
    this.s[slot + cap] = start;
    this.id[slot] = id;
    this.id[slot + cap] = id;
    this.version += 1;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
    this.version += 1;
  }

  times(): Float64Array {
    return this.t.subarray(this.head, this.head + this.size);
  }

  values(): Float64Array {
    return this.v.subarray(this.head, this.head + this.size);
  }

  starts(): Float64Array {
    return this.s.subarray(this.head, this.head + this.size);
  }

  ids(): Float64Array {
    return this.id.subarray(this.head, this.head + this.size);
  }

  /** The newest point's time, or NaN when empty. */
  lastTime(): number {
    return this.size === 0 ? Number.NaN : (this.t[this.head + this.size - 1] ?? Number.NaN);
  }

  /** The newest point's value, or NaN when empty. */
  lastValue(): number {
    return this.size === 0 ? Number.NaN : (this.v[this.head + this.size - 1] ?? Number.NaN);
  }
}

/** The first index whose time is >= `t` in an ascending array (binary search). */
export function lowerBound(times: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] ?? Number.POSITIVE_INFINITY) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface WindowSummary {
  count: number;
  min: number;
  max: number;
  last: number;
  /** +1 rising, -1 falling, 0 steady or not enough points. */
  trend: -1 | 0 | 1;
}

/**
 * Summarises the points of a ring newer than `windowS` seconds before its
 * newest point (the whole ring when `windowS` is null): min, max, the latest
 * value and a trend comparing the latest values with the ones before them.
 */
export function summarize(ring: RingView, windowS: number | null): WindowSummary {
  const times = ring.times();
  const values = ring.values();
  const n = values.length;
  if (n === 0) {
    return { count: 0, min: Number.NaN, max: Number.NaN, last: Number.NaN, trend: 0 };
  }
  const from = windowS === null ? 0 : lowerBound(times, ring.lastTime() - windowS);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = from; i < n; i += 1) {
    const v = values[i] ?? Number.NaN;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { count: n - from, min, max, last: values[n - 1] ?? Number.NaN, trend: trendOf(values, from) };
}

/**
 * Compares the mean of the newest few points with the mean of the few before
 * them; a change smaller than a tenth of their spread (or 0.5% of the level)
 * counts as steady, so sensor noise does not flip the arrow.
 */
function trendOf(values: Float64Array, from: number): -1 | 0 | 1 {
  const n = values.length;
  const span = Math.min(10, Math.floor((n - from) / 2));
  if (span < 1) return 0;
  let recent = 0;
  let before = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = n - 2 * span; i < n; i += 1) {
    const v = values[i] ?? 0;
    if (i < n - span) before += v;
    else recent += v;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const delta = (recent - before) / span;
  const threshold = Math.max((hi - lo) * 0.1, Math.abs(before / span) * 0.005, 1e-9);
  if (delta > threshold) return 1;
  if (delta < -threshold) return -1;
  return 0;
}
