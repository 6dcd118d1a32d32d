/** The store's bookkeeping that needs no React: the arrival rate and the log of ids taken in. */

const RATE_BUCKETS = 8;
const RATE_SPAN_S = 5;

export class Stats {
  private readonly rateSecond = new Float64Array(RATE_BUCKETS).fill(-1);
  private readonly rateCount = new Float64Array(RATE_BUCKETS);
  private readonly idLog: Float64Array;
  private idLogNext = 0;
  private idLogLength = 0;

  constructor(idLogSize: number) {
    this.idLog = new Float64Array(idLogSize);
  }

  noteArrival(arrivedAt: number): void {
    const second = Math.floor(arrivedAt / 1000);
    const slot = second % RATE_BUCKETS;
    if (this.rateSecond[slot] !== second) {
      this.rateSecond[slot] = second;
      this.rateCount[slot] = 0;
    }
    this.rateCount[slot] = (this.rateCount[slot] ?? 0) + 1;
  }

  noteId(id: number): void {
    this.idLog[this.idLogNext] = id;
    this.idLogNext = (this.idLogNext + 1) % this.idLog.length;
    this.idLogLength = Math.min(this.idLogLength + 1, this.idLog.length);
  }

  /** Samples per second over the last few seconds of wall-clock time. */
  rate(now: number): number {
    const current = Math.floor(now / 1000);
    let total = 0;
    for (let i = 0; i < RATE_BUCKETS; i += 1) {
      const second = this.rateSecond[i] ?? -1;
      if (second > current - RATE_SPAN_S && second <= current) total += this.rateCount[i] ?? 0;
    }
    const elapsed = RATE_SPAN_S - 1 + (now / 1000 - current);
    return total / elapsed;
  }

  /** The latest ids, oldest first. */
  ids(): number[] {
    const n = this.idLogLength;
    const size = this.idLog.length;
    const first = (this.idLogNext - n + size) % size;
    const out: number[] = [];
    for (let i = 0; i < n; i += 1) out.push(this.idLog[(first + i) % size] ?? 0);
    return out;
  }
}
