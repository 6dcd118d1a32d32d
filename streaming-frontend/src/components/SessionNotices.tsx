/**
 * What must stay in sight while it holds: that faults are being injected into
 * this dashboard's stream (so nobody takes the gaps and garbage for a broken
 * server), and that the session watched is gone, with the way back.
 */
import { type FaultSpec, describeFaults, hasFaults } from '../lib/faults';
import { shortId } from './SessionPanel';

/** Why the session watched is gone: this dashboard deleted it, or the server no longer knows it. */
export type SessionGone = 'deleted' | 'unknown';

export interface SessionNoticesProps {
  session: string | null;
  gone: SessionGone | null;
  onLeave: () => void;
  faults: FaultSpec;
  faultSeed: number | null;
  onClearFaults: () => void;
}

export function SessionNotices({
  session,
  gone,
  onLeave,
  faults,
  faultSeed,
  onClearFaults,
}: SessionNoticesProps): React.JSX.Element | null {
  const faulty = hasFaults(faults);
  if (!faulty && (gone === null || session === null)) return null;
  return (
    <div className="banners">
      {gone !== null && session !== null && (
        <div className="banner error" role="alert" data-testid="session-gone">
          <p>
            {gone === 'deleted'
              ? `Session ${shortId(session)} was deleted: its simulation and streams have ended.`
              : `Session ${shortId(session)} does not exist on this server (any more): it was deleted, or it expired after its time to live without use.`}{' '}
            Nothing more will arrive for it.
          </p>
          <button type="button" className="primary" onClick={onLeave} data-testid="leave-session">
            Back to the default simulation
          </button>
        </div>
      )}
      {faulty && (
        <p className="banner warn" data-testid="faults-active">
          <strong>Faults injected</strong> into this dashboard&apos;s own stream:{' '}
          {describeFaults(faults).join(', ')}
          {faultSeed === null ? '' : ` (fault seed ${faultSeed})`}. Gaps, duplicates, malformed events and
          reconnections below are on purpose.{' '}
          <button type="button" onClick={onClearFaults} data-testid="clear-faults">
            Stop faults
          </button>
        </p>
      )}
    </div>
  );
}
