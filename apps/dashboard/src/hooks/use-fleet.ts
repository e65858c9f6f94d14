import type { FleetView } from '@podgate/protocol';
import { useQuery } from '@tanstack/react-query';
import { FEED_FED, fleetKey } from '../lib/feed-cache.js';
import { useSession } from './session-context.js';

/** The fleet this instance belongs to (`off`: none), from the feed's snapshot and `fleet` messages; GET /fleet before the first. */
export function useFleet() {
  const { api } = useSession();
  return useQuery<FleetView>({ queryKey: fleetKey, queryFn: () => api.fleet(), ...FEED_FED });
}
