/**
 * What the user must know about the connection and the data's continuity:
 * an unreachable backend, a refused stream or history request (status and
 * message), and what a reset actually meant. Screen readers hear a short
 * status when the connection's state changes, not every count that moves.
 */
import type { Backfill } from '../hooks/useBackfill';
import type { EventSourceStatus } from '../hooks/useEventSource';
import type { Api } from '../lib/api';
import { typeLabel } from '../lib/catalogue';
import { type TimeZoneChoice, formatDuration, formatTime } from '../lib/format';
import type { Notice } from '../lib/notices';
import type { Snapshot } from '../lib/store';

export interface BannersProps {
  api: Api;
  backfill: Backfill;
  connection: EventSourceStatus;
  down: boolean;
  snapshot: Snapshot;
  zone: TimeZoneChoice;
  onDismiss: (id: number) => void;
}

function noticeText(notice: Notice, zone: TimeZoneChoice): string {
  const at = formatTime(notice.at, zone);
  switch (notice.kind) {
    case 'restart':
      return notice.firstOfRun
        ? `The backend restarted (seen at ${at}): the stream resumed from the new run's first sample${notice.oldestId === null ? '' : ` (id ${notice.oldestId})`}, so nothing it published was missed.`
        : `The backend restarted (seen at ${at}): the stream resumed from the new run's oldest buffered sample (id ${notice.oldestId}); what it published before that had already left its buffer.`;
    case 'expired':
      return `The stream could not resume exactly at ${at}: the server's buffer no longer held the ${notice.missed.toLocaleString('en-US')} samples after id ${notice.lastId}, so they were not received; it resumed from id ${notice.oldestId}.`;
    case 'unknown':
      return `At ${at} the server did not know id ${notice.lastId}${notice.newestId === null ? ' (its buffer is empty)' : ` (its newest is ${notice.newestId})`}: it runs another timeline, so the charts were cleared and follow its live data.`;
    case 'cleared':
      return `Time went back after the reset: the new run starts at ${formatTime(notice.restartedAt * 1000, zone)}, before the ${formatTime(notice.shownUntil * 1000, zone)} shown, so the earlier points of ${notice.types.map(typeLabel).join(', ')} were cleared.`;
  }
}

function retryText(retryAt: number | null, retryAfterMs: number | null, zone: TimeZoneChoice): string {
  if (retryAt === null) return '';
  const asked = retryAfterMs === null ? '' : ` (the server asked for ${formatDuration(retryAfterMs)})`;
  return ` Retrying at ${formatTime(retryAt, zone)}${asked}.`;
}

export function Banners({
  api,
  backfill,
  connection,
  down,
  snapshot,
  zone,
  onDismiss,
}: BannersProps): React.JSX.Element {
  const where = api.base === '' ? 'this address' : api.base;
  // A session that is gone is said once, with the way back, by SessionNotices.
  const historyError =
    backfill.error !== null && !backfill.error.unreachable && !backfill.error.sessionGone
      ? backfill.error
      : null;
  const streamError =
    connection.error !== null && connection.error.status >= 400 && connection.error.parameter !== 'session'
      ? connection.error
      : null;
  const status = down
    ? 'Backend unreachable'
    : historyError !== null || streamError !== null
      ? 'Backend refused a request'
      : connection.state === 'open'
        ? 'Stream open'
        : '';
  return (
    <div className="banners">
      <p className="visually-hidden" role="status" aria-live="polite">
        {status}
      </p>
      {down && (
        <p className="banner error" data-testid="backend-down">
          The backend at {where} cannot be reached. Retrying with growing pauses: the dashboard picks up where
          it left off when it is back.
        </p>
      )}
      {historyError !== null && (
        <p className="banner error" data-testid="history-error">
          History could not be loaded: {historyError.status} {historyError.code}: {historyError.message}.
          {retryText(backfill.retryAt, historyError.retryAfterMs, zone)}
        </p>
      )}
      {streamError !== null && (
        <p className="banner error" data-testid="stream-error">
          The stream was refused: {streamError.status} {streamError.code}: {streamError.message}.
          {retryText(connection.retryAt, streamError.retryAfterMs, zone)}
        </p>
      )}
      {snapshot.notices.map((notice) => (
        <p
          key={notice.id}
          className={`banner ${notice.kind === 'restart' ? 'info' : 'warn'}`}
          data-testid={`notice-${notice.kind}`}
        >
          {noticeText(notice, zone)}{' '}
          <button type="button" onClick={() => onDismiss(notice.id)}>
            Dismiss
          </button>
        </p>
      ))}
      {snapshot.counts.malformed > 0 && (
        <p className="banner warn" data-testid="malformed-notice">
          {snapshot.counts.malformed} malformed event{snapshot.counts.malformed === 1 ? '' : 's'} ignored
          (last: {snapshot.lastError}); the inspector shows them as they arrived.
        </p>
      )}
    </div>
  );
}
