import type { EventView, FeedMessage, FleetView, ServiceView } from '@podgate/protocol';
import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { applyFeedMessage, appendEvent, eventsKey, fleetKey, mergeEvents, mergeServices, serviceKey, servicesKey } from '../src/lib/feed-cache.js';
import { event, fleet, peer, service } from './fixtures.js';

const snapshot = (services: ServiceView[], events: EventView[] = []): FeedMessage => ({ type: 'snapshot', at: 1, services, events, fleet: fleet() });
const changes = (services: ServiceView[], removed: string[] = []): FeedMessage => ({ type: 'changes', at: 2, services, removed });

describe('mergeServices', () => {
  it('replaces changed services, adds new ones, drops removed ones, sorted by name', () => {
    const a = service('alpha');
    const b = service('bravo');
    const c = service('charlie');
    const b2 = service('bravo', { requests: 5 });
    const merged = mergeServices([c, a, b], [b2, service('aardvark')], ['charlie']);
    expect(merged.map((s) => s.name)).toEqual(['aardvark', 'alpha', 'bravo']);
    expect(merged[2]).toBe(b2);
  });

  it('sorts names with numbers in natural order', () => {
    const merged = mergeServices([], [service('svc-10'), service('svc-2'), service('svc-1')], []);
    expect(merged.map((s) => s.name)).toEqual(['svc-1', 'svc-2', 'svc-10']);
  });

  it('keeps the object of a service that did not change, so its row need not render again', () => {
    const a = service('alpha');
    const merged = mergeServices([a, service('bravo')], [service('bravo', { requests: 1 })], []);
    expect(merged[0]).toBe(a);
  });
});

describe('applyFeedMessage', () => {
  it('writes a snapshot into the list and into each service entry', () => {
    const client = new QueryClient();
    applyFeedMessage(client, snapshot([service('web'), service('api')], [event(1), event(2)]));
    expect(client.getQueryData<ServiceView[]>(servicesKey)?.map((s) => s.name)).toEqual(['api', 'web']);
    expect(client.getQueryData<ServiceView>(serviceKey('web'))?.name).toBe('web');
    expect(client.getQueryData<EventView[]>(eventsKey)?.map((e) => e.id)).toEqual([2, 1]);
  });

  it('applies changes to the list and the service entries, and forgets removed services', () => {
    const client = new QueryClient();
    applyFeedMessage(client, snapshot([service('web'), service('api')]));
    applyFeedMessage(client, changes([service('web', { requests: 10, peers: [peer('127.10.0.1:80', { state: 'ejected' })] })], ['api']));
    const list = client.getQueryData<ServiceView[]>(servicesKey);
    expect(list?.map((s) => [s.name, s.requests])).toEqual([['web', 10]]);
    expect(client.getQueryData<ServiceView>(serviceKey('web'))?.peers[0]?.state).toBe('ejected');
    expect(client.getQueryData(serviceKey('api'))).toBeUndefined();
  });

  it('appends live events newest first', () => {
    const client = new QueryClient();
    applyFeedMessage(client, snapshot([], [event(1), event(2)]));
    applyFeedMessage(client, { type: 'event', event: event(3, { type: 'peer_ejected', reason: 'connect_refused' }) });
    const events = client.getQueryData<EventView[]>(eventsKey);
    expect(events?.map((e) => e.id)).toEqual([3, 2, 1]);
    expect(events?.[0]?.reason).toBe('connect_refused');
  });

  it('after a reconnect, the new snapshot replaces services that went away while disconnected', () => {
    const client = new QueryClient();
    applyFeedMessage(client, snapshot([service('web'), service('old')], [event(1)]));
    applyFeedMessage(client, snapshot([service('web', { requests: 99 }), service('new')], [event(1), event(2)]));
    expect(client.getQueryData<ServiceView[]>(servicesKey)?.map((s) => [s.name, s.requests])).toEqual([
      ['new', 0],
      ['web', 99],
    ]);
    expect(client.getQueryData(serviceKey('old'))).toBeUndefined();
    expect(client.getQueryData<ServiceView>(serviceKey('new'))).toBeDefined();
    // Events are merged, not duplicated.
    expect(client.getQueryData<EventView[]>(eventsKey)?.map((e) => e.id)).toEqual([2, 1]);
  });

  it('makes a page still showing a removed service ask the server again instead of watching a dead entry', async () => {
    const client = new QueryClient();
    applyFeedMessage(client, snapshot([service('web')]));
    let fetched = 0;
    const observer = new QueryObserver(client, {
      queryKey: serviceKey('web'),
      staleTime: Infinity,
      queryFn: async () => {
        fetched++;
        throw new Error('404');
      },
      retry: false,
    });
    const unsubscribe = observer.subscribe(() => undefined);
    applyFeedMessage(client, changes([], ['web']));
    await new Promise((r) => setTimeout(r, 10));
    expect(fetched).toBe(1);
    unsubscribe();
  });

  it('ignores heartbeats and empty changes', () => {
    const client = new QueryClient();
    applyFeedMessage(client, snapshot([service('web')]));
    const before = client.getQueryData(servicesKey);
    applyFeedMessage(client, { type: 'heartbeat', at: 3 });
    applyFeedMessage(client, changes([]));
    expect(client.getQueryData(servicesKey)).toBe(before);
  });
});

describe('fleet cache', () => {
  const degraded = fleet({ name: 'demo', state: 'degraded', error: 'connect ECONNREFUSED 127.0.0.1:6379', since: 9_000 });

  it("stores the snapshot's fleet", () => {
    const client = new QueryClient();
    applyFeedMessage(client, { type: 'snapshot', at: 1, services: [], events: [], fleet: fleet({ name: 'demo', state: 'ok' }) });
    expect(client.getQueryData<FleetView>(fleetKey)).toMatchObject({ name: 'demo', state: 'ok', self: 'host:8080' });
  });

  it('replaces it with each fleet message, whole', () => {
    const client = new QueryClient();
    applyFeedMessage(client, { type: 'snapshot', at: 1, services: [service('web')], events: [], fleet: fleet({ name: 'demo', state: 'ok' }) });
    applyFeedMessage(client, { type: 'fleet', fleet: degraded });
    expect(client.getQueryData<FleetView>(fleetKey)).toEqual(degraded);
    const twoInstances = fleet({
      name: 'demo',
      state: 'ok',
      instances: [...fleet().instances, { id: 'host:8081', proxy: '127.0.0.1:8081', admin: '127.0.0.1:9902', version: '0.1.0', startedAt: 2_000, self: false }],
    });
    applyFeedMessage(client, { type: 'fleet', fleet: twoInstances });
    expect(client.getQueryData<FleetView>(fleetKey)?.instances.map((i) => [i.id, i.self])).toEqual([
      ['host:8080', true],
      ['host:8081', false],
    ]);
  });

  it('leaves the services and events alone on a fleet message', () => {
    const client = new QueryClient();
    applyFeedMessage(client, snapshot([service('web')], [event(1)]));
    const services = client.getQueryData(servicesKey);
    const events = client.getQueryData(eventsKey);
    applyFeedMessage(client, { type: 'fleet', fleet: degraded });
    expect(client.getQueryData(servicesKey)).toBe(services);
    expect(client.getQueryData(eventsKey)).toBe(events);
  });

  it('fills the fleet from a fleet message that comes before any snapshot', () => {
    const client = new QueryClient();
    applyFeedMessage(client, { type: 'fleet', fleet: degraded });
    expect(client.getQueryData<FleetView>(fleetKey)?.state).toBe('degraded');
  });

  it("after a reconnect, takes the new snapshot's fleet over the one from before", () => {
    const client = new QueryClient();
    applyFeedMessage(client, snapshot([]));
    applyFeedMessage(client, { type: 'fleet', fleet: degraded });
    applyFeedMessage(client, { type: 'snapshot', at: 2, services: [], events: [], fleet: fleet({ name: 'demo', state: 'ok', version: 12 }) });
    expect(client.getQueryData<FleetView>(fleetKey)).toMatchObject({ state: 'ok', version: 12, error: null });
  });
});

describe('events cache', () => {
  it('caps the events kept, dropping the oldest', () => {
    let list: EventView[] = [];
    for (let id = 1; id <= 12; id++) list = appendEvent(list, event(id), 10);
    expect(list).toHaveLength(10);
    expect(list[0]?.id).toBe(12);
    expect(list.at(-1)?.id).toBe(3);
  });

  it('merges an out-of-order or repeated event by id', () => {
    const list = appendEvent([event(5), event(3)], event(4));
    expect(list.map((e) => e.id)).toEqual([5, 4, 3]);
    expect(appendEvent(list, event(5)).map((e) => e.id)).toEqual([5, 4, 3]);
  });

  it('merges an older page under the newer events', () => {
    const merged = mergeEvents([event(103), event(102), event(101)], [event(99), event(100), event(101)]);
    expect(merged.map((e) => e.id)).toEqual([103, 102, 101, 100, 99]);
  });
});
