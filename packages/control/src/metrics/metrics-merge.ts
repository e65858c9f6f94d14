import type { ServiceView } from '@podgate/protocol';
import { LATENCY_BUCKETS_MS, type WorkerStats } from '@podgate/proxy';

/*
 * The numbers /metrics shows, summed over workers at scrape time. A service or peer is here while
 * the control plane lists it or any worker still reports it, and not a scrape longer.
 */

export interface MergedPeer {
  address: string;
  inFlight: number;
  requests: number;
  failures: Map<string, number>;
}

export interface MergedService {
  name: string;
  /** The control plane's view (peer states, DNS); null when only a worker still reports it. */
  view: ServiceView | null;
  inFlight: number;
  retries: number;
  budgetExhausted: number;
  connectHedges: number;
  hedges: number;
  rescued: number;
  probes: { ok: number; failed: number };
  responses: Map<string, number>;
  /** Requests per LATENCY_BUCKETS_MS bucket (not cumulative), `+Inf` last. */
  duration: number[];
  durationSumMs: number;
  peers: Map<string, MergedPeer>;
}

function emptyService(name: string, view: ServiceView | null): MergedService {
  return {
    name,
    view,
    inFlight: 0,
    retries: 0,
    budgetExhausted: 0,
    connectHedges: 0,
    hedges: 0,
    rescued: 0,
    probes: { ok: 0, failed: 0 },
    responses: new Map(),
    duration: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
    durationSumMs: 0,
    peers: new Map(),
  };
}

function peerOf(service: MergedService, address: string): MergedPeer {
  let peer = service.peers.get(address);
  if (peer === undefined) {
    peer = { address, inFlight: 0, requests: 0, failures: new Map() };
    service.peers.set(address, peer);
  }
  return peer;
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

export function mergeStats(views: readonly ServiceView[], workers: readonly WorkerStats[]): Map<string, MergedService> {
  const services = new Map<string, MergedService>();
  for (const view of views) {
    const service = emptyService(view.name, view);
    // Listed peers show up at 0 before their first try, so rate() has a starting point.
    for (const peer of view.peers) peerOf(service, peer.address);
    services.set(view.name, service);
  }
  for (const worker of workers) {
    for (const stats of worker.services) {
      let service = services.get(stats.name);
      if (service === undefined) {
        service = emptyService(stats.name, null);
        services.set(stats.name, service);
      }
      service.inFlight += stats.inFlight;
      service.retries += stats.retries;
      service.budgetExhausted += stats.budgetExhausted;
      service.connectHedges += stats.connectHedges;
      service.hedges += stats.hedges;
      service.rescued += stats.rescued;
      service.probes.ok += stats.probes.ok;
      service.probes.failed += stats.probes.failed;
      for (const [status, n] of Object.entries(stats.responses)) add(service.responses, status, n);
      const last = service.duration.length - 1;
      for (let i = 0; i < stats.duration.length; i++) {
        const at = Math.min(i, last);
        service.duration[at] = (service.duration[at] as number) + (stats.duration[i] ?? 0);
      }
      service.durationSumMs += stats.durationSumMs;
      for (const peerStats of stats.peers) {
        const peer = peerOf(service, peerStats.address);
        peer.inFlight += peerStats.inFlight;
        peer.requests += peerStats.requests;
        for (const [cause, n] of Object.entries(peerStats.failures)) if (n !== undefined) add(peer.failures, cause, n);
      }
    }
  }
  return services;
}
