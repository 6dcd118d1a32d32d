/**
 * Turns ring buffers into uPlot's column arrays without allocating per frame.
 *
 * A chart gets its own two pairs of arrays and fills them in turn: uPlot keeps
 * reading the pair it was last given (for the cursor) while the next frame
 * fills the other, and the ring itself may change underneath both.
 */
import type uPlot from 'uplot';
import type { Ring } from './ring';

export class FrameBuffers {
  private readonly xs: [Float64Array, Float64Array];
  private readonly ys: [Float64Array, Float64Array];
  private turn = 0;

  constructor(capacity: number) {
    this.xs = [new Float64Array(capacity), new Float64Array(capacity)];
    this.ys = [new Float64Array(capacity), new Float64Array(capacity)];
  }

  /** The ring's points as `[times, values]`. */
  fill(ring: Ring): uPlot.AlignedData {
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
 * Sleep stages as a hypnogram: each stage is a flat segment from its start to
 * its end; consecutive stages join with a vertical step; a pause between
 * stages leaves a gap.
 */
export function hypnogramData(ring: Ring): uPlot.AlignedData {
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
