/**
 * Whether the session the dashboard watches is gone: deleted from this page,
 * or answered with 404 naming `session` by any request (it expired, or was
 * deleted elsewhere). Latched: ids are never reused, so a session once gone
 * stays gone, though its errors stop coming once nothing asks for it.
 */
import { useCallback, useState } from 'react';
import type { SessionGone } from '../components/SessionNotices';
import type { ApiError } from '../lib/api';
import type { EventSourceStatus } from './useEventSource';

export interface SessionWatch {
  gone: SessionGone | null;
  /** Looks at the latest failures, during render (they are React state already). */
  note: (errors: readonly (ApiError | null)[], stream: EventSourceStatus) => void;
  /** This page deleted session `id`; it matters when it is the one watched. */
  deleted: (id: string) => void;
}

export function useSessionGone(session: string | null): SessionWatch {
  const [gone, setGone] = useState<SessionGone | null>(null);
  const note = (errors: readonly (ApiError | null)[], stream: EventSourceStatus): void => {
    if (session === null || gone !== null) return;
    // Setting state while rendering is React's way to adjust to what this render learnt.
    if (errors.some((e) => e?.sessionGone === true) || stream.error?.parameter === 'session') {
      setGone('unknown');
    }
  };
  const deleted = useCallback(
    (id: string) => {
      if (id === session) setGone('deleted');
    },
    [session],
  );
  return { gone, note, deleted };
}
