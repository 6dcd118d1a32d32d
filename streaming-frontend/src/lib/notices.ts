/**
 * What the store tells the user about the stream's continuity (notices) and
 * what the charts mark on their time axis (markers), and how a `reset` event
 * is read into what actually happened.
 */
import type { ResetInfo } from './parse';

/**
 * Ids of one backend run are consecutive, starting above its boot time in ms
 * x 1000 (API.md); one run publishes at most `BIOMOCK_MAX_BATCH` (2000) samples
 * per tick at ten ticks a second. A jump larger than that rate allows for the
 * time nothing arrived is a new run, not samples missed: a restart one second
 * later moves the ids on by a million.
 */
export const MAX_IDS_PER_SECOND = 20_000;

/** The largest id jump one run can make while we heard nothing for `quietMs`. */
export function sameRunJump(quietMs: number): number {
  return MAX_IDS_PER_SECOND * (Math.max(0, quietMs) / 1000 + 1);
}

export type Notice =
  /** The backend restarted; `firstOfRun` when its oldest buffered sample is its very first. */
  | { id: number; at: number; kind: 'restart'; lastId: number; oldestId: number | null; firstOfRun: boolean }
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
 * none) and how long nothing had arrived: null when there is nothing to tell
 * (nothing was held yet).
 */
export function describeReset(reset: ResetInfo, lastId: number, quietMs: number): Described | null {
  if (lastId === 0) return null;
  if (reset.reason !== 'expired') {
    return { kind: 'unknown', lastId, newestId: reset.newestId };
  }
  // An empty buffer: a backend that has just started; its next sample is its first.
  if (reset.oldestId === null) return { kind: 'restart', lastId, oldestId: null, firstOfRun: true };
  const oldestId = reset.oldestId;
  if (oldestId - lastId > sameRunJump(quietMs)) {
    return { kind: 'restart', lastId, oldestId, firstOfRun: oldestId % 1000 === 1 };
  }
  return { kind: 'expired', lastId, oldestId, missed: Math.max(0, oldestId - lastId - 1) };
}
