import type { EventView, FeedMessage, FleetView, ServiceView } from '@podgate/protocol';
import type { QueryClient } from '@tanstack/react-query';

/*
 * The live feed written into react-query's cache: the services list under ['services'], each
 * service under ['service', name], the events (newest first) under ['events'], the fleet this
 * instance belongs to under ['fleet']. Queries fed this way never poll; REST only fills them before
 * the first snapshot.
 */

export const servicesKey = ['services'] as const;
export const serviceKey = (name: string) => ['service', name] as const;
export const eventsKey = ['events'] as const;
export const fleetKey = ['fleet'] as const;

/**
 * Options of every query the feed fills: REST only when nothing is cached yet (the first load, or a
 * page opened before the first snapshot); after that the feed keeps it current, so nothing polls.
 */
export const FEED_FED = { staleTime: Infinity, refetchInterval: false, refetchOnWindowFocus: false, refetchOnReconnect: false } as const;

/** The server's event log keeps 5000; the browser keeps as many. */
export const EVENTS_CAP = 5000;

// Natural order, so svc-2 comes before svc-10.
const collator = new Intl.Collator('en', { numeric: true });

/** Services in name order, digits read as numbers. */
export const byName = (a: ServiceView, b: ServiceView): number => collator.compare(a.name, b.name);

/** The list sorted by name. */
export function sortServices(services: readonly ServiceView[]): ServiceView[] {
  return [...services].sort(byName);
}

/**
 * The list with `changed` services replaced or added and `removed` ones gone, sorted by name.
 * Services not named keep their object, so their rows need not render again.
 */
export function mergeServices(list: readonly ServiceView[] | undefined, changed: readonly ServiceView[], removed: readonly string[]): ServiceView[] {
  const map = new Map<string, ServiceView>();
  for (const s of list ?? []) map.set(s.name, s);
  for (const s of changed) map.set(s.name, s);
  for (const name of removed) map.delete(name);
  return sortServices([...map.values()]);
}

/** Events merged by id, newest first, the oldest dropped past `cap`. */
export function mergeEvents(current: readonly EventView[] | undefined, incoming: readonly EventView[], cap = EVENTS_CAP): EventView[] {
  if (incoming.length === 0) return current === undefined ? [] : [...current];
  const byId = new Map<number, EventView>();
  for (const e of current ?? []) byId.set(e.id, e);
  for (const e of incoming) byId.set(e.id, e);
  const all = [...byId.values()].sort((a, b) => b.id - a.id);
  return all.length > cap ? all.slice(0, cap) : all;
}

/** Appends one event to a newest-first list (the common case, without re-sorting everything). */
export function appendEvent(current: readonly EventView[] | undefined, event: EventView, cap = EVENTS_CAP): EventView[] {
  const list = current ?? [];
  const first = list[0];
  if (first !== undefined && event.id <= first.id) return mergeEvents(list, [event], cap);
  const next = [event, ...list];
  return next.length > cap ? next.slice(0, cap) : next;
}

/** Names of the services cached one by one. */
function cachedServiceNames(client: QueryClient): string[] {
  const names: string[] = [];
  for (const query of client.getQueryCache().findAll({ queryKey: ['service'] })) {
    const name = query.queryKey[1];
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

/**
 * Forgets a removed service. A page still showing it refetches instead, so it learns the service
 * is gone (404) rather than watching a cache entry that no longer exists.
 */
function dropService(client: QueryClient, name: string): void {
  const query = client.getQueryCache().find({ queryKey: serviceKey(name), exact: true });
  if (query === undefined) return;
  if (query.getObserversCount() > 0) void client.invalidateQueries({ queryKey: serviceKey(name), exact: true });
  else client.removeQueries({ queryKey: serviceKey(name), exact: true });
}

/** Writes one feed message into the cache. */
export function applyFeedMessage(client: QueryClient, message: FeedMessage): void {
  switch (message.type) {
    case 'snapshot': {
      // A snapshot is the whole truth: services that went away while disconnected go away here.
      const present = new Set(message.services.map((s) => s.name));
      client.setQueryData<ServiceView[]>(servicesKey, sortServices(message.services));
      for (const s of message.services) client.setQueryData<ServiceView>(serviceKey(s.name), s);
      for (const name of cachedServiceNames(client)) {
        if (!present.has(name)) dropService(client, name);
      }
      client.setQueryData<EventView[]>(eventsKey, (old) => mergeEvents(old, message.events));
      client.setQueryData<FleetView>(fleetKey, message.fleet);
      return;
    }
    case 'changes': {
      if (message.services.length === 0 && message.removed.length === 0) return;
      client.setQueryData<ServiceView[]>(servicesKey, (old) => mergeServices(old, message.services, message.removed));
      for (const s of message.services) client.setQueryData<ServiceView>(serviceKey(s.name), s);
      for (const name of message.removed) dropService(client, name);
      return;
    }
    case 'event':
      client.setQueryData<EventView[]>(eventsKey, (old) => appendEvent(old, message.event));
      return;
    case 'fleet':
      // Sent whole, on each change of state or instances: it replaces what was there.
      client.setQueryData<FleetView>(fleetKey, message.fleet);
      return;
    case 'heartbeat':
      return;
  }
}

/** Replaces one service in both its cache entries (after a mutation's reply or an optimistic change). */
export function writeService(client: QueryClient, view: ServiceView): void {
  client.setQueryData<ServiceView[]>(servicesKey, (old) => mergeServices(old, [view], []));
  client.setQueryData<ServiceView>(serviceKey(view.name), view);
}

/** Applies `update` to one service in both cache entries; no-op where it is not cached. */
export function updateService(client: QueryClient, name: string, update: (view: ServiceView) => ServiceView): void {
  client.setQueryData<ServiceView[]>(servicesKey, (old) => old?.map((s) => (s.name === name ? update(s) : s)));
  client.setQueryData<ServiceView>(serviceKey(name), (old) => (old === undefined ? undefined : update(old)));
}
