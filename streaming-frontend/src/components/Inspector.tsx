/**
 * The event inspector: the stream's last 50,000 frames as they arrived, in a
 * virtualised list (only the rows in view exist in the page), filtered by
 * type, subject and text. A chosen frame shows its data pretty-printed, its
 * point ringed on its chart, and a curl command that resumes the stream right
 * after it. What is shown can be saved as NDJSON or CSV.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useId, useLayoutEffect, useRef, useState } from 'react';
import { typeLabel } from '../lib/catalogue';
import type { Frame, FrameFlag, FrameLog } from '../lib/frameLog';
import { type TimeZoneChoice, formatClock, formatCount, formatTime, zoneName } from '../lib/format';
import { ALL_FRAMES, FrameFilter, type FrameQuery, resumeCurl, toCsv, toNdjson } from '../lib/inspect';

export interface InspectorProps {
  log: FrameLog;
  /** The log's version in the snapshot: the list follows it. */
  version: number;
  types: readonly string[];
  subjects: readonly string[];
  zone: TimeZoneChoice;
  /** The absolute stream URL the curl command resumes. */
  streamUrl: string;
  selected: number | null;
  onSelect: (frame: Frame | null) => void;
  onClose: () => void;
}

/** What a flag is called in the list (where it replaces the event name) and said in the detail. */
export const FLAG_WORDS: Record<FrameFlag, { short: string; long: string }> = {
  malformed: { short: 'malformed', long: 'not a valid sample: counted as malformed and ignored' },
  duplicate: { short: 'duplicate', long: 'an id already held: counted as a duplicate and skipped' },
  gap: { short: 'after gap', long: 'taken in, but ids before it never arrived (counted as missing)' },
  'out-of-order': { short: 'late', long: "older than its series' newest point: skipped" },
};

const ROW_HEIGHT = 24;
/** A row shows the start of the data (the detail shows all): long text costs layout on every scroll. */
const ROW_TEXT = 160;

function pretty(data: string): string {
  try {
    return JSON.stringify(JSON.parse(data), null, 2);
  } catch {
    return data;
  }
}

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function InspectorImpl(props: InspectorProps): React.JSX.Element {
  const { log, zone, selected, onSelect } = props;
  const ids = useId();
  const [query, setQuery] = useState<FrameQuery>(ALL_FRAMES);
  const [filter] = useState(() => new FrameFilter(1024));
  const [follow, setFollow] = useState(true);
  const [copied, setCopied] = useState<string | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  // The filter looks only at frames new since its last update (`version` says there are some):
  // cheap on every frame, and the same answer however often React renders.
  const count = filter.update(log, query);
  // The virtualiser hands out fresh measurements on each render, which is what this list wants.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });

  useLayoutEffect(() => {
    // Straight to the end: cheaper than the virtualiser's own scrolling, which re-measures.
    const list = scrollRef.current;
    if (follow && list !== null) list.scrollTop = list.scrollHeight;
  }, [follow, count]);

  const frame = selected === null ? null : log.get(selected);
  const shown = (): Frame[] => {
    const frames: Frame[] = [];
    for (let i = 0; i < count; i += 1) {
      const f = log.get(filter.seqAt(log, i));
      if (f !== null) frames.push(f);
    }
    return frames;
  };
  const curl = frame?.id == null ? null : resumeCurl(props.streamUrl, frame.id);
  const copy = async (text: string): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser refused the clipboard: select the command above and copy it.');
    }
  };

  return (
    <aside className="panel inspector" aria-labelledby={`${ids}-title`} data-testid="inspector">
      <div className="inspector-head">
        <h2 id={`${ids}-title`}>Inspector</h2>
        <button type="button" onClick={props.onClose}>
          Close inspector
        </button>
      </div>
      <div className="inspector-filters">
        <label>
          Type{' '}
          <select
            value={query.type}
            onChange={(e) => setQuery({ ...query, type: e.target.value })}
            data-testid="filter-type"
          >
            <option value="">all</option>
            {props.types.map((t) => (
              <option key={t} value={t}>
                {typeLabel(t)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Subject{' '}
          <select value={query.subject} onChange={(e) => setQuery({ ...query, subject: e.target.value })}>
            <option value="">all</option>
            {props.subjects.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Text{' '}
          <input
            type="search"
            value={query.text}
            onChange={(e) => setQuery({ ...query, text: e.target.value })}
          />
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={query.problems}
            onChange={(e) => setQuery({ ...query, problems: e.target.checked })}
            data-testid="filter-problems"
          />
          Only problems
        </label>
      </div>
      <div className="row">
        <span className="muted small" data-testid="frame-count">
          {formatCount(count)} of {formatCount(log.length)} frames · arrival times in {zoneName(zone)}
        </span>
        <label className="check small">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow new frames
        </label>
        <button
          type="button"
          onClick={() => download('biomock-frames.ndjson', 'application/x-ndjson', toNdjson(shown()))}
        >
          Save NDJSON
        </button>
        <button type="button" onClick={() => download('biomock-frames.csv', 'text/csv', toCsv(shown()))}>
          Save CSV
        </button>
      </div>
      <div
        ref={scrollRef}
        className="frame-list"
        tabIndex={0}
        role="region"
        aria-label="Frames, oldest first"
        data-testid="frame-list"
        onWheel={() => setFollow(false)}
      >
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const seq = filter.seqAt(log, item.index);
            const id = log.idAt(seq);
            const event = log.eventAt(seq);
            const flag = log.flagAt(seq);
            return (
              <button
                type="button"
                key={seq}
                className={`frame-row${seq === selected ? ' selected' : ''}${event !== 'message' ? ' named' : ''}${flag !== null ? ` flagged flag-${flag}` : ''}`}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
                aria-pressed={seq === selected}
                data-testid="frame-row"
                data-flag={flag ?? undefined}
                onClick={() => onSelect(log.get(seq))}
              >
                <span className="frame-id">{id ?? '—'}</span>
                <span className="frame-event">{flag === null ? event : FLAG_WORDS[flag].short}</span>
                <span className="frame-time">{formatClock(log.arrivedAt(seq), zone)}</span>
                <span className="frame-data">{log.dataAt(seq).slice(0, ROW_TEXT)}</span>
              </button>
            );
          })}
        </div>
      </div>
      {frame !== null && (
        <div className="frame-detail" data-testid="frame-detail">
          <h3>
            Frame {frame.id ?? '(no id)'} · {frame.event} · arrived {formatTime(frame.arrivedAt, zone)}
          </h3>
          {frame.flag !== null && (
            <p className="small warn" data-testid="frame-flag">
              {FLAG_WORDS[frame.flag].short}: {FLAG_WORDS[frame.flag].long}
            </p>
          )}
          {/* Focusable: a long frame scrolls, and keyboard users must be able to scroll it too. */}
          <pre tabIndex={0} aria-label="The frame as received">
            {pretty(frame.data)}
          </pre>
          {curl !== null && (
            <>
              <p className="small muted">Resume the stream right after this frame:</p>
              <code className="curl" data-testid="curl">
                {curl}
              </code>
              <div className="row">
                <button type="button" onClick={() => void copy(curl)}>
                  Copy curl that resumes from here
                </button>
                {copied !== null && (
                  <span className="small" role="status">
                    {copied}
                  </span>
                )}
              </div>
            </>
          )}
        </div>
      )}
    </aside>
  );
}

export const Inspector = memo(InspectorImpl);
