/**
 * The sample store: lives outside React, fed by history pages and the stream.
 *
 * Samples go into one ring buffer per (type, subject). Listeners are told
 * about changes at most once per animation frame, so a burst of a thousand
 * events costs one render; while the view is paused the store keeps
 * ingesting and tells nobody until it resumes.
 */
import { CATEGORY_TYPES, SLEEP_LEVELS, TYPE_LABELS } from './catalogue';
import { type ResetInfo, type Sample, parseReset, parseSample, toSample } from './parse';
import { Ring } from './ring';

export const RING_CAPACITY = 10_000;

export interface Series {
  key: string;
  type: string;
  subject: string;
  unit: string | null;
  /** True for string-valued types; the ring then holds an index into `categories`. */
  categorical: boolean;
  categories: string[];
  ring: Ring;
  /** The newest sample as received (workout start/end, scenario, ...). */
  last: Sample | null;
  /** The reset count when this series last took a sample. */
  epoch: number;
}

export interface Counts {
  /** Samples accepted from the stream and from history. */
  received: number;
  /** Events that were not valid samples. */
  malformed: number;
  /** Samples whose id had been seen already (skipped). */
  duplicates: number;
  /** Samples older than their series' newest point (skipped: charts need time order). */
  outOfOrder: number;
}

export interface ResetNotice extends ResetInfo {
  /** Wall-clock time it arrived, epoch ms. */
  at: number;
}

/** An immutable view of the store, replaced at most once per animation frame. */
export interface Snapshot {
  frame: number;
  paused: boolean;
  counts: Counts;
  lastId: number | null;
  lastError: string | null;
  reset: ResetNotice | null;
  subjects: readonly string[];
  types: readonly string[];
}

export interface StoreOptions {
  capacity?: number;
  /** Schedules a flush before the next paint; `requestAnimationFrame` in the browser. */
  requestFrame?: (callback: () => void) => unknown;
  /** Wall clock in epoch ms. */
  now?: () => number;
  /** How many of the latest ids to keep for inspection (the debug hook, tests). */
  idLogSize?: number;
}

const LATENCY_WINDOW = 256;
const RATE_BUCKETS = 8;
const RATE_SPAN_S = 5;

export function seriesKey(type: string, subject: string): string {
  return `${type}\u0000${subject}`;
}

export class Store {
  private readonly capacity: number;
  private readonly requestFrame: (callback: () => void) => unknown;
  private readonly now: () => number;
  private readonly listeners = new Set<() => void>();
  private readonly seriesByKey = new Map<string, Series>();
  private readonly subjects = new Set<string>();
  private readonly types = new Set<string>();
  private readonly counts: Counts = { received: 0, malformed: 0, duplicates: 0, outOfOrder: 0 };
  private readonly idLog: Float64Array;
  private idLogNext = 0;
  private idLogLength = 0;
  private readonly latencies = new Float64Array(LATENCY_WINDOW);
  private latencyCount = 0;
  private readonly rateSecond = new Float64Array(RATE_BUCKETS).fill(-1);
  private readonly rateCount = new Float64Array(RATE_BUCKETS);
  /** Ids at or below this were seen; ids strictly increase, so one number suffices. */
  private watermark = 0;
  private lastError: string | null = null;
  private reset: ResetNotice | null = null;
  private resets = 0;
  private paused = false;
  private frameScheduled = false;
  private frame = 0;
  private snapshot: Snapshot;

  constructor(options: StoreOptions = {}) {
    this.capacity = options.capacity ?? RING_CAPACITY;
    this.requestFrame = options.requestFrame ?? ((cb) => requestAnimationFrame(cb));
    this.now = options.now ?? Date.now;
    this.idLog = new Float64Array(options.idLogSize ?? 50_000);
    this.snapshot = this.buildSnapshot();
  }

  // ---- React's side: useSyncExternalStore(store.subscribe, store.getSnapshot) ----

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  getSnapshot = (): Snapshot => this.snapshot;

  // ---- Feeding ----

  /** Takes the data of one stream `message` event; malformed data is counted, never thrown. */
  ingestEvent(data: string, arrivedAt: number = this.now()): void {
    const parsed = parseSample(data);
    if (!parsed.ok) {
      this.malformed(parsed.error);
      return;
    }
    if (this.accept(parsed.value)) this.noteArrival(parsed.value, arrivedAt);
    this.changed();
  }

  /** Takes one history page's items, oldest first; returns how many were new. */
  ingestHistory(items: readonly unknown[]): number {
    let added = 0;
    for (const item of items) {
      const parsed = toSample(item);
      if (!parsed.ok) this.malformed(parsed.error);
      else if (this.accept(parsed.value)) added += 1;
    }
    this.changed();
    return added;
  }

  /**
   * Takes the data of a `reset` event. The server replays from its oldest
   * sample next (`expired`) or does not know our position (`unknown`: it was
   * restarted with another timeline), in which case what we hold belongs to
   * another timeline and is dropped.
   */
  ingestReset(data: string): void {
    const parsed = parseReset(data);
    if (!parsed.ok) {
      this.malformed(`reset: ${parsed.error}`);
      this.changed();
      return;
    }
    this.reset = { ...parsed.value, at: this.now() };
    this.resets += 1;
    if (parsed.value.reason !== 'expired') {
      for (const series of this.seriesByKey.values()) series.ring.clear();
    }
    this.watermark = 0;
    this.changed();
  }

  private malformed(error: string): void {
    this.counts.malformed += 1;
    this.lastError = error;
  }

  private accept(sample: Sample): boolean {
    if (sample.id <= this.watermark) {
      this.counts.duplicates += 1;
      return false;
    }
    const series = this.seriesFor(sample);
    let value: number;
    if (series.categorical) {
      if (typeof sample.value !== 'string') {
        this.malformed(`${sample.type} value is not a category`);
        return false;
      }
      value = this.categoryLevel(series, sample.value);
    } else if (typeof sample.value === 'number') {
      value = sample.value;
    } else {
      this.malformed(`${sample.type} value is not a number`);
      return false;
    }
    const time = sample.timestamp / 1000;
    if (series.epoch !== this.resets) {
      // After a reset the server may run another timeline (a restarted
      // simulation): time going backwards then starts the series afresh.
      series.epoch = this.resets;
      if (time < series.ring.lastTime()) series.ring.clear();
    }
    if (time < series.ring.lastTime()) {
      this.counts.outOfOrder += 1;
      this.watermark = sample.id;
      return false;
    }
    series.ring.push(sample.id, time, value, sample.start === null ? Number.NaN : sample.start / 1000);
    series.last = sample;
    this.watermark = sample.id;
    this.counts.received += 1;
    this.idLog[this.idLogNext] = sample.id;
    this.idLogNext = (this.idLogNext + 1) % this.idLog.length;
    this.idLogLength = Math.min(this.idLogLength + 1, this.idLog.length);
    return true;
  }

  private categoryLevel(series: Series, value: string): number {
    if (series.type === 'sleep_analysis') {
      const level = SLEEP_LEVELS[value];
      if (level !== undefined) return level;
    }
    let index = series.categories.indexOf(value);
    if (index < 0) {
      series.categories.push(value);
      index = series.categories.length - 1;
    }
    return index;
  }

  private seriesFor(sample: Sample): Series {
    const key = seriesKey(sample.type, sample.subject);
    let series = this.seriesByKey.get(key);
    if (series === undefined) {
      series = {
        key,
        type: sample.type,
        subject: sample.subject,
        unit: sample.unit,
        // A known numeric type stays numeric even if its first sample is bad.
        categorical:
          CATEGORY_TYPES.has(sample.type) ||
          (!(sample.type in TYPE_LABELS) && typeof sample.value === 'string'),
        categories: [],
        ring: new Ring(this.capacity),
        last: null,
        epoch: this.resets,
      };
      this.seriesByKey.set(key, series);
      this.subjects.add(sample.subject);
      this.types.add(sample.type);
    }
    return series;
  }

  private noteArrival(sample: Sample, arrivedAt: number): void {
    this.latencies[this.latencyCount % LATENCY_WINDOW] = arrivedAt - sample.timestamp;
    this.latencyCount += 1;
    const second = Math.floor(arrivedAt / 1000);
    const slot = second % RATE_BUCKETS;
    if (this.rateSecond[slot] !== second) {
      this.rateSecond[slot] = second;
      this.rateCount[slot] = 0;
    }
    this.rateCount[slot] = (this.rateCount[slot] ?? 0) + 1;
  }

  // ---- Reading ----

  series(type: string, subject: string): Series | undefined {
    return this.seriesByKey.get(seriesKey(type, subject));
  }

  /** Stream samples per second over the last few seconds of wall-clock time. */
  rate(now: number = this.now()): number {
    const current = Math.floor(now / 1000);
    let total = 0;
    for (let i = 0; i < RATE_BUCKETS; i += 1) {
      const second = this.rateSecond[i] ?? -1;
      if (second > current - RATE_SPAN_S && second <= current) total += this.rateCount[i] ?? 0;
    }
    const elapsed = RATE_SPAN_S - 1 + (now / 1000 - current);
    return total / elapsed;
  }

  /** Median of the recent stream samples' delay from their timestamp to arrival, ms. */
  latencyMs(): number | null {
    const n = Math.min(this.latencyCount, LATENCY_WINDOW);
    if (n === 0) return null;
    const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.floor(n / 2)] ?? null;
  }

  /** The latest ids accepted, oldest first (at most `idLogSize`). */
  ids(): number[] {
    const n = this.idLogLength;
    const size = this.idLog.length;
    const first = (this.idLogNext - n + size) % size;
    const out: number[] = [];
    for (let i = 0; i < n; i += 1) out.push(this.idLog[(first + i) % size] ?? 0);
    return out;
  }

  /** The counters right now (the snapshot's may be a frame old, or frozen while paused). */
  totals(): Counts {
    return { ...this.counts };
  }

  /** The newest id seen; pass it as `last_event_id` to resume after it. */
  lastId(): number | null {
    return this.watermark > 0 ? this.watermark : null;
  }

  // ---- The view ----

  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    // Pausing is itself a change the controls must show, so it flushes once too.
    this.frameScheduled = false;
    this.flush();
  }

  /** Forgets every sample (not the counters): used when switching backend timelines. */
  clear(): void {
    for (const series of this.seriesByKey.values()) series.ring.clear();
    this.watermark = 0;
    this.changed();
  }

  private changed(): void {
    if (this.paused || this.frameScheduled) return;
    this.frameScheduled = true;
    this.requestFrame(() => {
      this.frameScheduled = false;
      if (!this.paused) this.flush();
    });
  }

  private flush(): void {
    this.frame += 1;
    this.snapshot = this.buildSnapshot();
    for (const listener of [...this.listeners]) listener();
  }

  private buildSnapshot(): Snapshot {
    return {
      frame: this.frame,
      paused: this.paused,
      counts: { ...this.counts },
      lastId: this.lastId(),
      lastError: this.lastError,
      reset: this.reset,
      subjects: [...this.subjects],
      types: [...this.types],
    };
  }
}

export function createStore(options: StoreOptions = {}): Store {
  return new Store(options);
}
