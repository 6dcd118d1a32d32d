/**
 * The last frames of the stream exactly as they arrived: id, event name,
 * arrival time and raw data, for the event inspector.
 *
 * Frames are numbered by a sequence that never repeats (`seq`); the log keeps
 * the newest `capacity` of them in column arrays that are allocated once, so a
 * frame costs a few slot writes and the strings the browser already made.
 */

/**
 * What the store made of a frame, so the inspector can show it: `malformed`
 * (not a valid sample, ignored), `duplicate` (an id already held, skipped),
 * `gap` (ids before it never arrived), `out-of-order` (older than its series'
 * newest point, skipped); null for a frame taken in as it should be.
 */
export type FrameFlag = 'malformed' | 'duplicate' | 'gap' | 'out-of-order';

export interface Frame {
  seq: number;
  /** The SSE `id:` as a number; null for frames without one (`reset`). */
  id: number | null;
  /** `message` for samples, or the event's name (`reset`). */
  event: string;
  /** Wall-clock arrival, epoch ms. */
  arrivedAt: number;
  data: string;
  /** Parsed from `data` when it is a sample, for the filters; null otherwise. */
  type: string | null;
  subject: string | null;
  flag: FrameFlag | null;
}

export class FrameLog {
  readonly capacity: number;
  private readonly ids: Float64Array;
  private readonly arrived: Float64Array;
  private readonly events: string[];
  private readonly datas: string[];
  private readonly types: (string | null)[];
  private readonly subjects: (string | null)[];
  private readonly flags: (FrameFlag | null)[];
  /** The sequence number the next frame gets; frames `end - length` .. `end - 1` are held. */
  private end = 0;
  /** Frames before this were cleared. */
  private start = 0;
  /** Increases on every change, so views can tell whether to look again. */
  version = 0;

  constructor(capacity = 50_000) {
    this.capacity = capacity;
    this.ids = new Float64Array(capacity);
    this.arrived = new Float64Array(capacity);
    this.events = new Array<string>(capacity).fill('');
    this.datas = new Array<string>(capacity).fill('');
    this.types = new Array<string | null>(capacity).fill(null);
    this.subjects = new Array<string | null>(capacity).fill(null);
    this.flags = new Array<FrameFlag | null>(capacity).fill(null);
  }

  get length(): number {
    return Math.min(this.end - this.start, this.capacity);
  }

  /** The oldest sequence number still held. */
  get first(): number {
    return this.end - this.length;
  }

  /** One past the newest sequence number. */
  get next(): number {
    return this.end;
  }

  push(
    id: number | null,
    event: string,
    arrivedAt: number,
    data: string,
    type: string | null,
    subject: string | null,
    flag: FrameFlag | null = null,
  ): void {
    const slot = this.end % this.capacity;
    this.ids[slot] = id ?? Number.NaN;
    this.arrived[slot] = arrivedAt;
    this.events[slot] = event;
    this.datas[slot] = data;
    this.types[slot] = type;
    this.subjects[slot] = subject;
    this.flags[slot] = flag;
    this.end += 1;
    this.version += 1;
  }

  /** Forgets every frame; sequence numbers go on from where they were, so none is reused. */
  clear(): void {
    this.start = this.end;
    this.version += 1;
  }

  /** Whether frame `seq` is still held. */
  has(seq: number): boolean {
    return seq >= this.first && seq < this.end;
  }

  idAt(seq: number): number | null {
    const id = this.ids[seq % this.capacity] ?? Number.NaN;
    return Number.isNaN(id) ? null : id;
  }

  typeAt(seq: number): string | null {
    return this.types[seq % this.capacity] ?? null;
  }

  subjectAt(seq: number): string | null {
    return this.subjects[seq % this.capacity] ?? null;
  }

  flagAt(seq: number): FrameFlag | null {
    return this.flags[seq % this.capacity] ?? null;
  }

  dataAt(seq: number): string {
    return this.datas[seq % this.capacity] ?? '';
  }

  eventAt(seq: number): string {
    return this.events[seq % this.capacity] ?? '';
  }

  arrivedAt(seq: number): number {
    return this.arrived[seq % this.capacity] ?? Number.NaN;
  }

  /** Frame `seq` as one object (for the detail view and exports); null once it is gone. */
  get(seq: number): Frame | null {
    if (!this.has(seq)) return null;
    return {
      seq,
      id: this.idAt(seq),
      event: this.eventAt(seq),
      arrivedAt: this.arrivedAt(seq),
      data: this.dataAt(seq),
      type: this.typeAt(seq),
      subject: this.subjectAt(seq),
      flag: this.flagAt(seq),
    };
  }
}
