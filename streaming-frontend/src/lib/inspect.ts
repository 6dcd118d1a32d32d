/**
 * The inspector's filtering and exports, kept apart from React.
 *
 * `FrameFilter` keeps the sequence numbers of the frames that match, and on
 * each update only looks at frames that arrived since the last one, so a live
 * stream costs the new frames, not the whole log, every animation frame.
 */
import type { Frame, FrameLog } from './frameLog';

export interface FrameQuery {
  /** Only this type; '' for all. */
  type: string;
  /** Only this subject; '' for all. */
  subject: string;
  /** Only frames whose raw data contains this text (case-insensitive); '' for all. */
  text: string;
  /** Only frames the store flagged (malformed, duplicate, after a gap, out of order). */
  problems: boolean;
}

export const ALL_FRAMES: FrameQuery = { type: '', subject: '', text: '', problems: false };

export function matches(log: FrameLog, seq: number, query: FrameQuery, needle: string): boolean {
  if (query.problems && log.flagAt(seq) === null) return false;
  if (query.type !== '' && log.typeAt(seq) !== query.type) return false;
  if (query.subject !== '' && log.subjectAt(seq) !== query.subject) return false;
  return needle === '' || log.dataAt(seq).toLowerCase().includes(needle);
}

export class FrameFilter {
  private seqs: Int32Array;
  private start = 0;
  private count = 0;
  private scanned = 0;
  private query: FrameQuery = ALL_FRAMES;
  private needle = '';
  private matchesAll = true;

  constructor(capacity: number) {
    this.seqs = new Int32Array(capacity);
  }

  /** Brings the matches up to date with `log` under `query`; returns how many match. */
  update(log: FrameLog, query: FrameQuery): number {
    if (
      query.type !== this.query.type ||
      query.subject !== this.query.subject ||
      query.text !== this.query.text ||
      query.problems !== this.query.problems
    ) {
      this.query = query;
      this.needle = query.text.toLowerCase();
      this.matchesAll = query.type === '' && query.subject === '' && query.text === '' && !query.problems;
      this.start = 0;
      this.count = 0;
      this.scanned = log.first;
    }
    if (this.matchesAll) {
      // Every frame held matches: the list is the log itself, no copy.
      this.scanned = log.next;
      return log.length;
    }
    // Drop matches that left the log.
    while (this.count > 0 && (this.seqs[this.start] ?? 0) < log.first) {
      this.start = (this.start + 1) % this.seqs.length;
      this.count -= 1;
    }
    for (let seq = Math.max(this.scanned, log.first); seq < log.next; seq += 1) {
      if (!matches(log, seq, this.query, this.needle)) continue;
      if (this.count === this.seqs.length) this.grow();
      this.seqs[(this.start + this.count) % this.seqs.length] = seq;
      this.count += 1;
    }
    this.scanned = log.next;
    return this.count;
  }

  /** The sequence number of the `index`-th match, oldest first. */
  seqAt(log: FrameLog, index: number): number {
    if (this.matchesAll) return log.first + index;
    return this.seqs[(this.start + index) % this.seqs.length] ?? -1;
  }

  private grow(): void {
    const bigger = new Int32Array(this.seqs.length * 2);
    for (let i = 0; i < this.count; i += 1) bigger[i] = this.seqs[(this.start + i) % this.seqs.length] ?? 0;
    this.seqs = bigger;
    this.start = 0;
  }
}

function dataValue(frame: Frame): unknown {
  try {
    return JSON.parse(frame.data) as unknown;
  } catch {
    // Malformed data is exported as the text it was.
    return frame.data;
  }
}

/** One JSON object per line: id, event, arrival time and the data (parsed when it is JSON). */
export function toNdjson(frames: readonly Frame[]): string {
  return frames
    .map((f) =>
      JSON.stringify({
        id: f.id,
        event: f.event,
        arrived: new Date(f.arrivedAt).toISOString(),
        data: dataValue(f),
      }),
    )
    .join('\n')
    .concat(frames.length > 0 ? '\n' : '');
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** RFC 4180 CSV with a header row: id, event, arrived, type, subject, data (raw). */
export function toCsv(frames: readonly Frame[]): string {
  const rows = frames.map((f) =>
    [
      f.id === null ? '' : String(f.id),
      f.event,
      new Date(f.arrivedAt).toISOString(),
      f.type ?? '',
      f.subject ?? '',
      f.data,
    ]
      .map(csvField)
      .join(','),
  );
  return ['id,event,arrived,type,subject,data', ...rows].join('\r\n').concat('\r\n');
}

/** Single-quoted for a POSIX shell. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * A curl command that streams from the server right after frame `id`
 * (`last_event_id`), so the developer sees what came next with any tool.
 */
export function resumeCurl(streamUrl: string, id: number): string {
  const url = new URL(streamUrl);
  url.searchParams.set('last_event_id', String(id));
  return `curl -N -H 'Accept: text/event-stream' ${shellQuote(url.href)}`;
}
