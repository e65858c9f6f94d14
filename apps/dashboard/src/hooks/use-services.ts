import type { EventView, ServiceView } from '@podgate/protocol';
import { useQuery } from '@tanstack/react-query';
import { eventsKey, FEED_FED, serviceKey, servicesKey, sortServices } from '../lib/feed-cache.js';
import { useSession } from './session-context.js';

/* Reads of the feed-fed cache (FEED_FED: REST before the first snapshot only, never a poll). */

export function useServices() {
  const { api } = useSession();
  return useQuery<ServiceView[]>({ queryKey: servicesKey, queryFn: async () => sortServices(await api.listServices()), ...FEED_FED });
}

export function useService(name: string) {
  const { api } = useSession();
  return useQuery<ServiceView>({ queryKey: serviceKey(name), queryFn: () => api.getService(name), ...FEED_FED });
}

/** Events, newest first: the snapshot's last 100, then each one as it happens, plus older pages loaded on demand. */
export function useEvents() {
  return useQuery<EventView[]>({ queryKey: eventsKey, queryFn: () => Promise.resolve([]), enabled: false, ...FEED_FED });
}
