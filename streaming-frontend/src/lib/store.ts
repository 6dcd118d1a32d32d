/**
 * The sample store: lives outside React, fed by history pages and the stream.
 *
 * Samples go into one ring buffer per (type, subject); every stream frame also
 * goes into the frame log the inspector shows. Listeners are told about
 * changes at most once per animation frame, so a burst of a thousand events
 * costs one render. The snapshot is all the view may read: while the view is
 * paused its series are frozen copies, so nothing the view re-renders for (a
 * poll, a resize) can show newer data.
 */
import { CATEGORY_TYPES, SLEEP_LEVELS, TYPE_LABELS } from './catalogue';
import { type FrameFlag, FrameLog } from './frameLog';
import { LatencyMeter } from './latency';
import { type Marker, type Notice, describeReset, sameRunJump } from './notices';
import { type ClockState, type Sample, parseReset, parseSample, toSample } from './parse';
import { FrozenRing, Ring, type RingView } from './ring';
import { Stats } from './storeStats';
import { Throttle } from './throttle';

export type { Marker, Notice } from './notices';

export const RING_CAPACITY = 10_000;
export const FRAME_LOG_CAPACITY = 50_000;
const MAX_MARKERS = 200;

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
  /** Wall-clock arrival of the newest sample, epoch ms. */
  lastArrival: number;
  /** The reset count when this series last took a sample. */
  epoch: number;
}

/** One series as the view sees it in a snapshot; replaced only when the series changed. */
export interface SeriesState {
  key: string;
  type: string;
  subject: string;
  unit: string | null;
  categorical: boolean;
  categories: readonly string[];
  view: RingView;
  version: number;
  last: Sample | null;
  lastArrival: number;
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
  /** Ids that never arrived although later ones did (the stream is unfiltered). */
  missing: number;
  /** Times the stream opened again after it was cut or refused. */
  reconnects: number;
}

/** What became of one sample: taken in (`ok`, or `gap` when ids before it never came) or skipped. */
type Verdict = 'ok' | FrameFlag;

function zeroCounts(): Counts {
  return { received: 0, malformed: 0, duplicates: 0, outOfOrder: 0, missing: 0, reconnects: 0 };
}

/** An immutable view of the store, replaced at most once per animation frame. */
export interface Snapshot {
  frame: number;
  paused: boolean;
  /** Samples taken in since the view was paused. */
  newWhilePaused: number;
  counts: Counts;
  lastId: number | null;
  lastError: string | null;
  notices: readonly Notice[];
  markers: readonly Marker[];
  subjects: readonly string[];
  types: readonly string[];
  series: ReadonlyMap<string, SeriesState>;
  /**
   * The frame log's version as the inspector should show it: it moves at most
   * four times a second, since nobody reads hundreds of rows a second and the list
   * need not redraw on every animation frame.
   */
  framesVersion: number;
  /**
   * Moves at most ten times a second: tiles and counters follow it rather than
   * every animation frame (the charts follow every frame).
   */
  slowTick: number;
  /** Stream samples per second over the last few seconds. */
  rate: number;
  /** Median stream latency (ms) from the server's clock; null when it cannot be known. */
  latencyMs: number | null;
  /** Increases when a sample showed the last clock reading is out of date. */
  clockStale: number;
}

export interface StoreOptions {
  capacity?: number;
  frameCapacity?: number;
  /** Schedules a flush before the next paint; `requestAnimationFrame` in the browser. */
  requestFrame?: (callback: () => void) => unknown;
  /** Wall clock in epoch ms. */
  now?: () => number;
  /** How many of the latest ids to keep for inspection (the debug hook, tests). */
  idLogSize?: number;
}

export function seriesKey(type: string, subject: string): string {
  return `${type}\u0000${subject}`;
}

export class Store {
  readonly frames: FrameLog;
  private readonly capacity: number;
  private readonly requestFrame: (callback: () => void) => unknown;
  private readonly now: () => number;
  private readonly listeners = new Set<() => void>();
  private readonly seriesByKey = new Map<string, Series>();
  private readonly idLogSize: number;
  private stats: Stats;
  private latency = new LatencyMeter();
  private counts: Counts = zeroCounts();
  private countsChanged = false;
  private subjects: readonly string[] = [];
  private types: readonly string[] = [];
  private notices: readonly Notice[] = [];
  private markers: readonly Marker[] = [];
  private noticeId = 0;
  /** Ids at or below this were seen; ids strictly increase, so one number suffices. */
  private watermark = 0;
  /** The newest sample time held, seconds: where markers for "now" go. */
  private newestTime = Number.NaN;
  private lastError: string | null = null;
  /** When the last stream frame arrived (wall ms): how long the stream was quiet before a reset. */
  private lastFrameAt = Number.NEGATIVE_INFINITY;
  private resets = 0;
  /** Gaps are not counted across a reset (the server said where it resumes). */
  private afterReset = false;
  private lastClock: ClockState | null = null;
  private clockStale = 0;
  private scenarios = new Map<string, string>();
  private paused = false;
  private receivedAtPause = 0;
  private frameScheduled = false;
  private frame = 0;
  private seriesStates = new Map<string, SeriesState>();
  private readonly framesThrottle: Throttle;
  private readonly slowThrottle: Throttle;
  private snapshot: Snapshot;

  constructor(options: StoreOptions = {}) {
    this.capacity = options.capacity ?? RING_CAPACITY;
    this.frames = new FrameLog(options.frameCapacity ?? FRAME_LOG_CAPACITY);
    this.requestFrame = options.requestFrame ?? ((cb) => requestAnimationFrame(cb));
    this.now = options.now ?? Date.now;
    this.idLogSize = options.idLogSize ?? FRAME_LOG_CAPACITY;
    this.stats = new Stats(this.idLogSize);
    this.framesThrottle = new Throttle(FRAME_LIST_PERIOD_MS, this.now, () => this.changed());
    this.slowThrottle = new Throttle(SLOW_PERIOD_MS, this.now, () => this.changed());
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

  /**
   * Takes one stream `message` event; malformed data is counted, never thrown.
   *
   * @param sseId the event's `id:` field, which a malformed event may still carry
   */
  ingestEvent(data: string, arrivedAt: number = this.now(), sseId: string | null = null): void {
    const parsed = parseSample(data);
    const frameId = parsed.ok ? parsed.value.id : idOf(sseId);
    const quietMs = arrivedAt - this.lastFrameAt;
    this.lastFrameAt = arrivedAt;
    let verdict: Verdict = 'malformed';
    if (!parsed.ok) {
      this.malformed(parsed.error);
      // Its id still arrived: it is no gap.
      if (frameId !== null && frameId > this.watermark) this.watermark = frameId;
    } else {
      verdict = this.accept(parsed.value, arrivedAt, quietMs);
      if (verdict === 'ok' || verdict === 'gap') {
        this.stats.noteArrival(arrivedAt);
        if (!this.latency.note(parsed.value.timestamp, arrivedAt)) this.clockStale += 1;
      }
    }
    this.frames.push(
      frameId,
      'message',
      arrivedAt,
      data,
      parsed.ok ? parsed.value.type : null,
      parsed.ok ? parsed.value.subject : null,
      verdict === 'ok' ? null : verdict,
    );
    this.changed();
  }

  /** Takes one history page's items, oldest first; returns how many were new. */
  ingestHistory(items: readonly unknown[]): number {
    let added = 0;
    const arrivedAt = this.now();
    this.lastFrameAt = arrivedAt;
    for (const item of items) {
      const parsed = toSample(item);
      if (!parsed.ok) this.malformed(parsed.error);
      else if (accepted(this.accept(parsed.value, arrivedAt))) added += 1;
    }
    this.changed();
    return added;
  }

  /**
   * Takes the data of a `reset` event and says what happened: a backend
   * restart (nothing missed from the new run), samples that left the
   * server's buffer (how many), or another timeline (the charts are cleared).
   */
  ingestReset(data: string, arrivedAt: number = this.now()): void {
    const quietMs = arrivedAt - this.lastFrameAt;
    this.lastFrameAt = arrivedAt;
    this.frames.push(null, 'reset', arrivedAt, data, null, null);
    const parsed = parseReset(data);
    if (!parsed.ok) {
      this.malformed(`reset: ${parsed.error}`);
      this.changed();
      return;
    }
    const described = describeReset(parsed.value, this.watermark, quietMs);
    if (described !== null) this.addNotice({ ...described, id: 0, at: arrivedAt } as Notice);
    this.addMarker('reset', described?.kind === 'restart' ? 'restart' : `reset (${parsed.value.reason})`);
    this.resets += 1;
    this.afterReset = true;
    if (described?.kind === 'unknown') {
      for (const series of this.seriesByKey.values()) series.ring.clear();
      this.newestTime = Number.NaN;
    }
    this.watermark = 0;
    this.changed();
  }

  /** A clock reading from `GET /api/clock` taken at wall time `readAt`. */
  noteClock(clock: ClockState, readAt: number): void {
    const before = this.lastClock;
    if (before !== null && (before.speed !== clock.speed || before.paused !== clock.paused)) {
      this.addMarker('clock', clock.paused ? 'clock paused' : `clock ${clock.speed}×`);
    }
    this.lastClock = clock;
    this.latency.setClock(clock, readAt);
    this.refreshDerived();
  }

  /** The stream opened again after failing. */
  noteReconnect(): void {
    this.counts.reconnects += 1;
    this.countsChanged = true;
    this.addMarker('reconnect', 'reconnected');
    this.changed();
  }

  /** Wall-clock upkeep (once a second while the page is visible): rate and latency move. */
  tick(now: number = this.now()): void {
    this.refreshDerived(now);
  }

  dismissNotice(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
    this.flushNow();
  }

  private refreshDerived(now: number = this.now()): void {
    const rate = this.stats.rate(now);
    const latency = this.latency.medianMs();
    const s = this.snapshot;
    if (Math.abs(rate - s.rate) > 0.05 || latency !== s.latencyMs || this.clockStale !== s.clockStale) {
      this.changed();
    }
  }

  private malformed(error: string): void {
    this.counts.malformed += 1;
    this.countsChanged = true;
    this.lastError = error;
  }

  private accept(sample: Sample, arrivedAt: number, quietMs = 0): Verdict {
    this.countsChanged = true;
    if (sample.id <= this.watermark) {
      this.counts.duplicates += 1;
      return 'duplicate';
    }
    let verdict: Verdict = 'ok';
    if (this.watermark > 0 && !this.afterReset && sample.id - this.watermark <= sameRunJump(quietMs)) {
      const missed = sample.id - this.watermark - 1;
      this.counts.missing += missed;
      if (missed > 0) verdict = 'gap';
    }
    this.afterReset = false;
    const series = this.seriesFor(sample);
    let value: number;
    if (series.categorical) {
      if (typeof sample.value !== 'string') {
        this.malformed(`${sample.type} value is not a category`);
        this.watermark = sample.id;
        return 'malformed';
      }
      value = this.categoryLevel(series, sample.value);
    } else if (typeof sample.value === 'number') {
      value = sample.value;
    } else {
      this.malformed(`${sample.type} value is not a number`);
      this.watermark = sample.id;
      return 'malformed';
    }
    const time = sample.timestamp / 1000;
    if (series.epoch !== this.resets) {
      // After a reset the server may run another timeline (a restarted
      // simulation whose clock is behind what was shown): time going
      // backwards then starts the series afresh, and the user is told.
      series.epoch = this.resets;
      if (time < series.ring.lastTime()) this.clearedByTime(series, time);
    }
    this.watermark = sample.id;
    if (time < series.ring.lastTime()) {
      this.counts.outOfOrder += 1;
      return 'out-of-order';
    }
    series.ring.push(sample.id, time, value, sample.start === null ? Number.NaN : sample.start / 1000);
    series.last = sample;
    series.lastArrival = arrivedAt;
    if (!(time <= this.newestTime)) this.newestTime = time;
    this.noteScenario(sample, time);
    this.counts.received += 1;
    this.stats.noteId(sample.id);
    return verdict;
  }

  private clearedByTime(series: Series, time: number): void {
    const shownUntil = series.ring.lastTime();
    series.ring.clear();
    const last = this.notices.at(-1);
    if (last?.kind === 'cleared' && last.id === this.noticeId) {
      this.notices = [
        ...this.notices.slice(0, -1),
        { ...last, types: [...last.types, series.type], shownUntil: Math.max(last.shownUntil, shownUntil) },
      ];
    } else {
      this.addNotice({
        id: 0,
        at: this.now(),
        kind: 'cleared',
        types: [series.type],
        shownUntil,
        restartedAt: time,
      });
    }
  }

  private noteScenario(sample: Sample, time: number): void {
    if (sample.scenario === null) return;
    const before = this.scenarios.get(sample.subject);
    if (before === sample.scenario) return;
    this.scenarios.set(sample.subject, sample.scenario);
    if (before !== undefined) this.addMarker('scenario', `${sample.subject}: ${sample.scenario}`, time);
  }

  private addNotice(notice: Notice): void {
    this.noticeId += 1;
    this.notices = [...this.notices, { ...notice, id: this.noticeId }].slice(-5);
  }

  private addMarker(kind: Marker['kind'], label: string, time: number = this.newestTime): void {
    if (Number.isNaN(time)) return;
    this.markers = [...this.markers, { time, kind, label }].slice(-MAX_MARKERS);
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
        lastArrival: Number.NaN,
        epoch: this.resets,
      };
      this.seriesByKey.set(key, series);
      // New arrays only when a subject or type is new, so memos on them hold.
      if (!this.subjects.includes(sample.subject)) this.subjects = [...this.subjects, sample.subject];
      if (!this.types.includes(sample.type)) this.types = [...this.types, sample.type];
    }
    return series;
  }

  // ---- Reading outside render (event handlers, the debug hook) ----

  series(type: string, subject: string): Series | undefined {
    return this.seriesByKey.get(seriesKey(type, subject));
  }

  /** Stream samples per second over the last few seconds of wall-clock time. */
  rate(now: number = this.now()): number {
    return this.stats.rate(now);
  }

  /** The latest ids accepted, oldest first. */
  ids(): number[] {
    return this.stats.ids();
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
    this.receivedAtPause = this.counts.received;
    if (paused) {
      // Freeze what the view shows now; later frames only move the "N new" badge.
      const frozen = new Map<string, SeriesState>();
      for (const [key, state] of this.currentSeries()) {
        frozen.set(key, { ...state, view: new FrozenRing(state.view) });
      }
      this.seriesStates = frozen;
    }
    this.flushNow();
  }

  /** Forgets every sample (not the counters): used when switching backend timelines. */
  clear(): void {
    for (const series of this.seriesByKey.values()) series.ring.clear();
    this.watermark = 0;
    this.newestTime = Number.NaN;
    this.changed();
  }

  /**
   * Forgets everything: samples, frames, counters, notices and markers. For a
   * switch to another simulation (a session), whose ids start over and whose
   * subjects are other people: nothing of the old one may be taken for it.
   */
  reset(): void {
    this.seriesByKey.clear();
    this.seriesStates = new Map();
    this.frames.clear();
    this.stats = new Stats(this.idLogSize);
    this.latency = new LatencyMeter();
    this.counts = zeroCounts();
    this.countsChanged = true;
    this.subjects = [];
    this.types = [];
    this.notices = [];
    this.markers = [];
    this.watermark = 0;
    this.newestTime = Number.NaN;
    this.lastError = null;
    this.lastFrameAt = Number.NEGATIVE_INFINITY;
    this.afterReset = false;
    this.lastClock = null;
    this.scenarios = new Map();
    this.paused = false;
    this.receivedAtPause = 0;
    this.flushNow();
  }

  private changed(): void {
    if (this.frameScheduled) return;
    this.frameScheduled = true;
    this.requestFrame(() => {
      this.frameScheduled = false;
      this.flush();
    });
  }

  private flushNow(): void {
    this.flush();
  }

  private flush(): void {
    this.frame += 1;
    this.snapshot = this.buildSnapshot();
    for (const listener of [...this.listeners]) listener();
  }

  /** Series states, rebuilding only those whose ring moved; the same Map when none did. */
  private currentSeries(): Map<string, SeriesState> {
    if (this.paused) return this.seriesStates;
    let changed = this.seriesStates.size !== this.seriesByKey.size;
    for (const series of this.seriesByKey.values()) {
      if (this.seriesStates.get(series.key)?.version !== series.ring.version) changed = true;
    }
    if (!changed) return this.seriesStates;
    const next = new Map<string, SeriesState>();
    for (const series of this.seriesByKey.values()) {
      const previous = this.seriesStates.get(series.key);
      next.set(
        series.key,
        previous !== undefined &&
          previous.version === series.ring.version &&
          !(previous.view instanceof FrozenRing)
          ? previous
          : {
              key: series.key,
              type: series.type,
              subject: series.subject,
              unit: series.unit,
              categorical: series.categorical,
              categories: series.categories,
              view: series.ring,
              version: series.ring.version,
              last: series.last,
              lastArrival: series.lastArrival,
            },
      );
    }
    this.seriesStates = next;
    return next;
  }

  private buildSnapshot(): Snapshot {
    const previous = this.snapshot as Snapshot | undefined;
    // The snapshot gets its own copy of the counters (they keep moving), a new one only when they moved.
    const counts = this.countsChanged || previous === undefined ? { ...this.counts } : previous.counts;
    this.countsChanged = false;
    return {
      frame: this.frame,
      paused: this.paused,
      newWhilePaused: this.paused ? this.counts.received - this.receivedAtPause : 0,
      counts,
      lastId: this.lastId(),
      lastError: this.lastError,
      notices: this.notices,
      markers: this.markers,
      subjects: this.subjects,
      types: this.types,
      series: this.currentSeries(),
      framesVersion:
        previous === undefined ||
        (previous.framesVersion !== this.frames.version && this.framesThrottle.pass())
          ? this.frames.version
          : previous.framesVersion,
      slowTick:
        previous === undefined ? 0 : this.slowThrottle.pass() ? previous.slowTick + 1 : previous.slowTick,
      rate: this.stats.rate(this.now()),
      latencyMs: this.latency.medianMs(),
      clockStale: this.clockStale,
    };
  }
}

const FRAME_LIST_PERIOD_MS = 250;
const SLOW_PERIOD_MS = 100;

function accepted(verdict: Verdict): boolean {
  return verdict === 'ok' || verdict === 'gap';
}

function idOf(text: string | null): number | null {
  if (text === null || !/^\d+$/.test(text)) return null;
  const id = Number(text);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

export function createStore(options: StoreOptions = {}): Store {
  return new Store(options);
}
