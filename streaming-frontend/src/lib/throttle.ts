/**
 * Lets a change through at most once per period, and comes back (through
 * `wake`) for the last change it held back, so the newest state is always
 * shown in the end. Used for what nobody can read at 60 Hz: the frame list,
 * tiles and counters.
 */
export class Throttle {
  private shownAt = Number.NEGATIVE_INFINITY;
  private pending = false;

  constructor(
    private readonly periodMs: number,
    private readonly now: () => number,
    private readonly wake: () => void,
  ) {}

  /** Whether a change may be shown now; when not, `wake` runs once the period is over. */
  pass(): boolean {
    const now = this.now();
    const since = now - this.shownAt;
    if (since >= this.periodMs) {
      this.shownAt = now;
      return true;
    }
    if (!this.pending) {
      this.pending = true;
      setTimeout(() => {
        this.pending = false;
        this.wake();
      }, this.periodMs - since);
    }
    return false;
  }
}
