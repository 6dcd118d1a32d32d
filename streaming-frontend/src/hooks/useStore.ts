import { useSyncExternalStore } from 'react';
import type { Snapshot, Store } from '../lib/store';

/** The store's snapshot; re-renders at most once per animation frame. */
export function useSnapshot(store: Store): Snapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
