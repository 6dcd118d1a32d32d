/**
 * Turns ring buffers into uPlot's column arrays without allocating per frame.
 *
 * A chart gets its own two pairs of arrays and fills them in turn: uPlot keeps
 * reading the pair it was last given (for the cursor) while the next frame
 * fills the other, and the ring itself may change underneath both.
 */
import type uPlot from 'uplot';
import type { RingView } from './ring';

export class FrameBuffers {
  private readonly xs: [Float64Array, Float64Array];
  private readonly ys: [Float64Array, Float64Array];
  private turn = 0;

  constructor(capacity: number) {
    this.xs = [new Float64Array(capacity), new Float64Array(capacity)];
    this.ys = [new Float64Array(capacity), new Float64Array(capacity)];
  }

  /** The ring's points as `[times, values]`. */
  fill(ring: RingView): uPlot.AlignedData {
    this.turn = 1 - this.turn;
    const x = this.xs[this.turn] as Float64Array;
    const y = this.ys[this.turn] as Float64Array;
    const n = Math.min(ring.length, x.length);
    const times = ring.times();
    const values = ring.values();
    x.set(times.subarray(times.length - n));
    y.set(values.subarray(values.length - n));
    return [x.subarray(0, n), y.subarray(0, n)];
  }
}

/**
 * Values that cover an interval (sleep stages, steps, distance, energy): each is
 * a flat segment from its start to its end, so a chart filled down to zero shows
 * it as a bar over its interval; consecutive intervals join with a vertical
 * step; a pause between them leaves a gap. Overlapping intervals (a watch and a
 * phone counting the same walk) start where the previous one ended.
 */
export function intervalData(ring: RingView): uPlot.AlignedData {
  const ends = ring.times();
  const starts = ring.starts();
  const levels = ring.values();
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  let previousEnd = Number.NaN;
  for (let i = 0; i < ends.length; i += 1) {
    const end = ends[i] ?? Number.NaN;
    const level = levels[i] ?? Number.NaN;
    const rawStart = starts[i] ?? Number.NaN;
    const start =
      Number.isNaN(rawStart) || rawStart > end ? end : Math.max(rawStart, previousEnd || rawStart);
    if (!Number.isNaN(previousEnd) && start > previousEnd) {
      xs.push((previousEnd + start) / 2);
      ys.push(null);
    }
    xs.push(start, end);
    ys.push(level, level);
    previousEnd = end;
  }
  return [xs, ys];
}

/** Sleep stages as a hypnogram: each stage's level over its interval. */
export const hypnogramData = intervalData;

/**
 * Several rings (one subject each) on one time axis, for overlaid series:
 * every distinct time once, and null where a subject has no point then
 * (uPlot joins across those with `spanGaps`).
 */
export function overlayData(rings: readonly RingView[]): uPlot.AlignedData {
  const times = rings.map((r) => r.times());
  const values = rings.map((r) => r.values());
  const cursor = rings.map(() => 0);
  const xs: number[] = [];
  const ys: (number | null)[][] = rings.map(() => []);
  for (;;) {
    let next = Number.POSITIVE_INFINITY;
    for (let k = 0; k < rings.length; k += 1) {
      const t = times[k]?.[cursor[k] ?? 0];
      if (t !== undefined && t < next) next = t;
    }
    if (next === Number.POSITIVE_INFINITY) break;
    xs.push(next);
    for (let k = 0; k < rings.length; k += 1) {
      const i = cursor[k] ?? 0;
      const column = ys[k] as (number | null)[];
      if (times[k]?.[i] === next) {
        column.push(values[k]?.[i] ?? null);
        // Two points of one subject at the same time: keep the newest.
        let j = i + 1;
        while (times[k]?.[j] === next) {
          column[column.length - 1] = values[k]?.[j] ?? null;
          j += 1;
        }
        cursor[k] = j;
      } else {
        column.push(null);
      }
    }
  }
  return [xs, ...ys];
}
