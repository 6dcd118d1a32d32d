/**
 * The stream's latency from what the server says, not from the sample's own
 * timestamp: sample time is simulated time, which runs at the clock's speed
 * and can be jumped, so "arrival minus timestamp" means nothing unless the
 * clock runs at 1x from the wall clock.
 *
 * A reading of `GET /api/clock` (simulated now, speed, paused) taken at a
 * known wall time tells when simulated time T was reached on the server:
 * `readAt + (T - simNow) / speed`. A sample is published at that moment, so its
 * latency is its arrival minus that. Without a reading, or once a sample shows
 * the reading is out of date (the clock was changed elsewhere), the latency is
 * unknown until the next reading.
 */
import type { ClockState } from './parse';

const WINDOW = 256;
/** How early (ms) a sample may seem to arrive before the reading is taken as out of date. */
const TOLERANCE_MS = 250;

export class LatencyMeter {
  private readonly values = new Float64Array(WINDOW);
  private count = 0;
  private simNow = Number.NaN;
  private readAt = Number.NaN;
  private speed = 1;
  private stale = true;

  /** A clock reading; `readAt` is the wall time it describes (the middle of the request). */
  setClock(clock: ClockState, readAt: number): void {
    if (clock.now === null || clock.paused || !(clock.speed > 0)) {
      // A paused clock publishes nothing; without `now` nothing can be said.
      this.stale = clock.now === null;
      return;
    }
    const changed = this.stale || clock.speed !== this.speed;
    this.simNow = clock.now;
    this.readAt = readAt;
    this.speed = clock.speed;
    this.stale = false;
    if (changed) this.count = 0;
  }

  /**
   * Notes one live sample; returns false when the reading turned out to be
   * out of date (the caller should read the clock again).
   */
  note(sampleMs: number, arrivedAt: number): boolean {
    if (this.stale) return true;
    const published = this.readAt + (sampleMs - this.simNow) / this.speed;
    const latency = arrivedAt - published;
    if (latency < -TOLERANCE_MS) {
      this.stale = true;
      this.count = 0;
      return false;
    }
    this.values[this.count % WINDOW] = Math.max(0, latency);
    this.count += 1;
    return true;
  }

  /** The median latency of the recent live samples, ms; null when it cannot be known. */
  medianMs(): number | null {
    const n = Math.min(this.count, WINDOW);
    if (this.stale || n === 0) return null;
    const sorted = this.values.slice(0, n).sort();
    return sorted[Math.floor(n / 2)] ?? null;
  }
}
