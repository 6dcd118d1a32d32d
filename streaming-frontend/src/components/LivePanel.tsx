/** The live panel: how the stream and the backend are doing right now. */
import { useEffect, useState } from 'react';
import type { EventSourceStatus } from '../hooks/useEventSource';
import type { ApiError } from '../lib/api';
import { formatCompact, formatCount, formatDuration } from '../lib/format';
import type { Stats } from '../lib/parse';
import type { Snapshot } from '../lib/store';

export interface LivePanelProps {
  snapshot: Snapshot;
  connection: EventSourceStatus;
  stats: Stats | null;
  statsError: ApiError | null;
  /** False in a hidden tab: the countdown stops ticking. */
  visible: boolean;
  now?: () => number;
  /** The simulation watched is gone (a deleted or expired session): no stream will open. */
  ended?: boolean;
}

const STATE_TEXT = {
  idle: 'loading history',
  connecting: 'connecting',
  open: 'open',
  reconnecting: 'reconnecting',
} as const;

export function connectionText(status: EventSourceStatus, now: number): string {
  if (status.state !== 'reconnecting' || status.retryAt === null) return STATE_TEXT[status.state];
  const left = status.retryAt - now;
  return left > 0 ? `reconnecting in ${(left / 1000).toFixed(1)} s` : 'reconnecting now';
}

const compact = formatCompact;

function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : formatCount(n);
}

export function LivePanel({
  snapshot,
  connection,
  stats,
  statsError,
  visible,
  now = Date.now,
  ended = false,
}: LivePanelProps): React.JSX.Element {
  // The countdown moves with the wall clock, but only while there is one to show.
  const [time, setTime] = useState(now);
  const counting = visible && connection.state === 'reconnecting';
  useEffect(() => {
    if (!counting) return undefined;
    const id = setInterval(() => setTime(now()), 250);
    return () => clearInterval(id);
  }, [now, counting]);

  const fill = stats === null ? null : stats.bufferSize / Math.max(stats.bufferCapacity, 1);
  const { counts, latencyMs } = snapshot;
  return (
    <section className="panel live" aria-labelledby="live-title">
      <h2 id="live-title">Live</h2>
      <dl className="live-grid">
        <dt>Stream</dt>
        <dd>
          <span
            className={`state state-${ended ? 'ended' : connection.state}`}
            data-testid="connection-state"
            data-state={ended ? 'ended' : connection.state}
          >
            {ended ? 'ended' : connectionText(connection, counting ? time : now())}
          </span>
        </dd>
        <dt>Samples/s</dt>
        <dd data-testid="rate">{snapshot.rate.toFixed(1)}</dd>
        <dt title="From the moment the server published a sample (its clock, GET /api/clock) to its arrival here">
          Latency
        </dt>
        <dd
          data-testid="latency"
          title={latencyMs === null ? 'unknown until the clock has been read' : undefined}
        >
          {latencyMs === null ? 'unknown' : formatDuration(latencyMs)}
        </dd>
        <dt>Subscribers</dt>
        <dd data-testid="subscribers">{stats?.subscribers ?? '–'}</dd>
        <dt>Buffer</dt>
        <dd>
          {stats === null || fill === null ? (
            '–'
          ) : (
            <>
              <meter min={0} max={1} value={fill} aria-label="Buffer fill" />{' '}
              <span
                data-testid="buffer-fill"
                title={`${stats.bufferSize} of ${stats.bufferCapacity} samples`}
              >
                {compact(stats.bufferSize)} / {compact(stats.bufferCapacity)}
              </span>
            </>
          )}
        </dd>
        <dt title="Subscribers the server cut because they could not keep up">Dropped slow</dt>
        <dd data-testid="dropped-slow">{count(stats?.droppedSlow)}</dd>
        <dt>Last id</dt>
        <dd data-testid="last-id">{snapshot.lastId ?? '–'}</dd>
        <dt>Received</dt>
        <dd data-testid="received">{count(counts.received)}</dd>
        <dt title="Ids that never arrived although later ones did">Missing ids</dt>
        <dd data-testid="missing" className={counts.missing > 0 ? 'warn' : undefined}>
          {count(counts.missing)}
        </dd>
        <dt>Malformed</dt>
        <dd data-testid="malformed" className={counts.malformed > 0 ? 'warn' : undefined}>
          {count(counts.malformed)}
        </dd>
        <dt title="Samples already held, skipped">Duplicates</dt>
        <dd data-testid="duplicates">{count(counts.duplicates)}</dd>
        <dt title="Samples older than their series' newest point, skipped">Out of order</dt>
        <dd data-testid="out-of-order">{count(counts.outOfOrder)}</dd>
        <dt title="Failed connection attempts in a row">Failures</dt>
        <dd data-testid="failures">{connection.failures}</dd>
        <dt title="Times the stream opened again after it was cut or refused">Reconnects</dt>
        <dd data-testid="reconnects">{count(counts.reconnects)}</dd>
      </dl>
      {connection.state === 'reconnecting' && connection.error !== null && connection.error.status < 400 && (
        <p className="muted small" data-testid="cut-reason">
          Reconnecting because {connection.error.message}.
        </p>
      )}
      {statsError !== null && !statsError.missing && !statsError.unreachable && (
        <p className="muted small">
          Stats unavailable: {statsError.status} {statsError.message}
        </p>
      )}
    </section>
  );
}
