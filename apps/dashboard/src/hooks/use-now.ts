import { useSyncExternalStore } from 'react';

/*
 * One shared clock ticking each second while anything shows a relative time, so "12 s ago" stays
 * true without re-rendering whole rows: only the small components that print a time subscribe.
 */

const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === null) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, 1000);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

const getNow = (): number => now;

/** The current time, updated once a second. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, getNow);
}
