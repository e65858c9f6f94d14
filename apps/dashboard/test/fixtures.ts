import type { EventView, FleetView, PeerView, ServiceView } from '@podgate/protocol';

export function peer(address: string, over: Partial<PeerView> = {}): PeerView {
  return {
    address,
    state: 'active',
    reason: 'dns',
    since: 1_000,
    hold: null,
    inFlight: 0,
    requests: 0,
    retries: 0,
    errors: {},
    ejections: 0,
    returnsAt: null,
    lastFailure: null,
    latencyMs: null,
    heldBy: null,
    ejectedBy: null,
    ...over,
  };
}

export function service(name: string, over: Partial<ServiceView> = {}): ServiceView {
  return {
    name,
    source: 'config',
    dnsName: `${name}.prod.svc.cluster.local`,
    port: 8080,
    routes: [{ pathPrefix: '/' }],
    algorithm: 'round_robin',
    panic: false,
    dns: {
      name: `${name}.prod.svc.cluster.local`,
      lastRefreshAt: 1_000,
      lastSuccessAt: 1_000,
      lastError: null,
      lastKnownGoodAgeMs: 0,
      nextRefreshAt: 6_000,
      addresses: [],
      refreshes: { resolved: 1, failed: 0, empty: 0 },
    },
    requests: 0,
    inFlight: 0,
    retries: 0,
    responses: {},
    peers: [],
    ...over,
  };
}

export function event(id: number, over: Partial<EventView> = {}): EventView {
  return { id, at: 1_000 + id, type: 'peer_added', level: 'routine', service: 'web', address: `10.0.0.${id % 250}:8080`, ...over };
}

/** An instance on its own (no fleet), as GET /api/v1/fleet answers it. */
export function fleet(over: Partial<FleetView> = {}): FleetView {
  return {
    name: null,
    state: 'off',
    since: 1_000,
    error: null,
    version: 0,
    self: 'host:8080',
    instances: [{ id: 'host:8080', proxy: '127.0.0.1:8080', admin: '127.0.0.1:9901', version: '0.1.0', startedAt: 1_000, self: true }],
    ...over,
  };
}
