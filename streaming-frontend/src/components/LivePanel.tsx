/** The live panel: how the stream and the backend are doing right now. */
import { useEffect, useState } from 'react';
import type { EventSourceStatus } from '../hooks/useEventSource';
import type { ApiError } from '../lib/api';
import { formatDuration } from '../lib/format';
import type { Stats } from '../lib/parse';
import type { Snapshot, Store } from '../lib/store';

export interface LivePanelProps {
  store: Store;
  snapshot: Snapshot;
  connection: EventSourceStatus;
  stats: Stats | null;
  statsError: ApiError | null;
  now?: () => number;
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

function compact(n: number): string {
  return n.toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 1 });
}

export function LivePanel({
  store,
  snapshot,
  connection,
  stats,
  statsError,
  now = Date.now,
}: LivePanelProps): React.JSX.Element {
  // Rates and countdowns move with the wall clock even when no sample arrives.
  const [time, setTime] = useState(now);
  useEffect(() => {
    const id = setInterval(() => setTime(now()), 250);
    return () => clearInterval(id);
  }, [now]);

  const rate = store.rate(time);
  const latency = store.latencyMs();
  const fill = stats === null ? null : stats.bufferSize / Math.max(stats.bufferCapacity, 1);
  const { counts } = snapshot;
  return (
    <section className="panel live" aria-labelledby="live-title">
      <h2 id="live-title">Live</h2>
      <dl className="live-grid">
        <dt>Stream</dt>
        <dd>
          <span
            className={`state state-${connection.state}`}
            data-testid="connection-state"
            data-state={connection.state}
          >
            {connectionText(connection, time)}
          </span>
        </dd>
        <dt>Samples/s</dt>
        <dd data-testid="rate">{rate.toFixed(1)}</dd>
        <dt title="From the sample's timestamp to its arrival here (simulated time when the clock is not 1×)">
          Latency
        </dt>
        <dd data-testid="latency">{latency === null ? '–' : formatDuration(latency)}</dd>
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
        <dt>Last id</dt>
        <dd data-testid="last-id">{snapshot.lastId ?? '–'}</dd>
        <dt>Received</dt>
        <dd data-testid="received">{counts.received.toLocaleString('en-US')}</dd>
        <dt>Malformed</dt>
        <dd data-testid="malformed" className={counts.malformed > 0 ? 'warn' : undefined}>
          {counts.malformed}
        </dd>
        <dt title="Samples already held, skipped">Duplicates</dt>
        <dd data-testid="duplicates">{counts.duplicates}</dd>
      </dl>
      {statsError !== null && !statsError.missing && !statsError.unreachable && (
        <p className="muted" role="status">
          Stats unavailable: {statsError.message}
        </p>
      )}
    </section>
  );
}
