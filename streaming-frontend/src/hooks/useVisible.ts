/** Whether the page is visible: polling and timers stop in a background tab. */
import { useSyncExternalStore } from 'react';

function subscribe(callback: () => void): () => void {
  document.addEventListener('visibilitychange', callback);
  return () => document.removeEventListener('visibilitychange', callback);
}

function visible(): boolean {
  return document.visibilityState !== 'hidden';
}

export function useVisible(): boolean {
  return useSyncExternalStore(subscribe, visible, () => true);
}
