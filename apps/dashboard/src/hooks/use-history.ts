import { useCallback, useSyncExternalStore } from 'react';
import type { ServicePoint, PeerRates } from '../lib/rates.js';
import { useSession } from './session-context.js';

/** The service's last point; the component re-renders only when that service gets a new point. */
export function useLatestPoint(name: string): ServicePoint | undefined {
  const { history } = useSession();
  const get = useCallback(() => history.latestPoint(name), [history, name]);
  return useSyncExternalStore(history.subscribe, get);
}

export function usePoints(name: string): readonly ServicePoint[] {
  const { history } = useSession();
  const get = useCallback(() => history.points(name), [history, name]);
  return useSyncExternalStore(history.subscribe, get);
}

export function usePeerRates(name: string): ReadonlyMap<string, PeerRates> {
  const { history } = useSession();
  const get = useCallback(() => history.peerRates(name), [history, name]);
  return useSyncExternalStore(history.subscribe, get);
}
