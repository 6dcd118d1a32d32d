/**
 * What the store tells the user about the stream's continuity (notices) and
 * what the charts mark on their time axis (markers), and how a `reset` event
 * is read into what actually happened.
 */
import type { ResetInfo } from './parse';

/**
 * Ids of one backend run are its boot time in ms x 1000 plus a sequence
 * (API.md): a jump this large between two ids is a new run, not samples missed
 * (a million samples would have to go by unseen).
 */
export const NEW_RUN_ID_JUMP = 1_000_000;

export type Notice =
  /** The backend restarted; `firstOfRun` when its oldest buffered sample is its very first. */
  | { id: number; at: number; kind: 'restart'; lastId: number; oldestId: number; firstOfRun: boolean }
  /** The same run, but its buffer no longer held what came after `lastId`. */
  | { id: number; at: number; kind: 'expired'; lastId: number; oldestId: number; missed: number }
  /** The server did not know our position: another timeline; the charts were cleared. */
  | { id: number; at: number; kind: 'unknown'; lastId: number; newestId: number | null }
  /** After a reset, time went back for these types: their earlier points were cleared. */
  | { id: number; at: number; kind: 'cleared'; types: string[]; shownUntil: number; restartedAt: number };

export type NoticeKind = Notice['kind'];

export interface Marker {
  /** Sample time, seconds (the charts' x). */
  time: number;
  kind: 'scenario' | 'clock' | 'reset' | 'reconnect';
  label: string;
}

type Described =
  | Omit<Extract<Notice, { kind: 'restart' }>, 'id' | 'at'>
  | Omit<Extract<Notice, { kind: 'expired' }>, 'id' | 'at'>
  | Omit<Extract<Notice, { kind: 'unknown' }>, 'id' | 'at'>;

/**
 * What a reset means, given the newest id held before it (`lastId`, 0 when
 * none): null when there is nothing to tell (nothing was held yet).
 */
export function describeReset(reset: ResetInfo, lastId: number): Described | null {
  if (lastId === 0) return null;
  if (reset.reason !== 'expired') {
    return { kind: 'unknown', lastId, newestId: reset.newestId };
  }
  if (reset.oldestId === null) return { kind: 'unknown', lastId, newestId: reset.newestId };
  const oldestId = reset.oldestId;
  if (oldestId - lastId > NEW_RUN_ID_JUMP) {
    return { kind: 'restart', lastId, oldestId, firstOfRun: oldestId % 1000 === 1 };
  }
  return { kind: 'expired', lastId, oldestId, missed: Math.max(0, oldestId - lastId - 1) };
}
