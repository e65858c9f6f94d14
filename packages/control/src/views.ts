import type { PeerTable } from '@podgate/balancer';
import type { DnsStatus } from '@podgate/discovery';
import type { PeerView, ServiceConfig, ServiceView } from '@podgate/protocol';
import { LatencyWindow } from './latency-window.js';
import type { PeerStats, WorkerStats } from '@podgate/proxy';

/** What the primary attaches to each peer of its tables. */
export class PeerLatency {
  readonly window = new LatencyWindow();
}

/** Who put a peer where it is, when a person or another instance did: the view's `heldBy` and `ejectedBy`. */
export interface PeerProvenance {
  heldBy(service: string, address: string): PeerView['heldBy'];
  ejectedBy(service: string, address: string): string | null;
}

export const NO_PROVENANCE: PeerProvenance = { heldBy: () => null, ejectedBy: () => null };

/**
 * A service as the API and the feed show it: the primary's table (states) merged with the sum of
 * every worker's counters (traffic).
 */
export function buildServiceView(
  config: ServiceConfig,
  source: 'config' | 'api',
  table: PeerTable<PeerLatency>,
  dns: DnsStatus,
  workers: readonly WorkerStats[],
  provenance: PeerProvenance = NO_PROVENANCE,
): ServiceView {
  let requests = 0;
  let inFlight = 0;
  let retries = 0;
  const responses: Record<string, number> = {};
  const peerStats = new Map<string, PeerStats[]>();
  for (const w of workers) {
    const s = w.services.find((x) => x.name === config.name);
    if (s === undefined) continue;
    requests += s.requests;
    inFlight += s.inFlight;
    retries += s.retries;
    for (const [status, n] of Object.entries(s.responses)) responses[status] = (responses[status] ?? 0) + n;
    for (const p of s.peers) {
      const list = peerStats.get(p.address);
      if (list === undefined) peerStats.set(p.address, [p]);
      else list.push(p);
    }
  }
  const peers: PeerView[] = table.list().map((peer) => {
    const stats = peerStats.get(peer.address) ?? [];
    const errors: Record<string, number> = {};
    let peerRequests = 0;
    let peerRetries = 0;
    let peerInFlight = 0;
    let lastFailure: PeerView['lastFailure'] = peer.lastFailure;
    for (const st of stats) {
      if (st.lastFailure !== null && (lastFailure === null || st.lastFailure.at > lastFailure.at)) lastFailure = st.lastFailure;
      peerRequests += st.requests;
      peerRetries += st.retries;
      peerInFlight += st.inFlight;
      for (const [cause, n] of Object.entries(st.failures)) errors[cause] = (errors[cause] ?? 0) + (n ?? 0);
    }
    return {
      address: peer.address,
      state: peer.state,
      reason: peer.reason,
      since: peer.since,
      hold: peer.hold,
      inFlight: peerInFlight,
      requests: peerRequests,
      retries: peerRetries,
      errors,
      // Every ejection, automatic or by hand (peer.ejections is the automatic multiplier, which decays).
      ejections: peer.timesEjected,
      returnsAt: peer.ejectedUntil,
      lastFailure,
      latencyMs: peer.handle?.window.percentiles() ?? null,
      heldBy: peer.hold === null ? null : provenance.heldBy(config.name, peer.address),
      ejectedBy: peer.state === 'ejected' && peer.hold === null ? provenance.ejectedBy(config.name, peer.address) : null,
    };
  });
  return {
    name: config.name,
    source,
    dnsName: config.dnsName,
    port: config.port,
    routes: config.routes.map((r) => (r.host === undefined ? { pathPrefix: r.pathPrefix } : { host: r.host, pathPrefix: r.pathPrefix })),
    algorithm: config.algorithm,
    panic: table.inPanic,
    dns: {
      name: config.dnsName,
      lastRefreshAt: dns.lastRefreshAt,
      lastSuccessAt: dns.lastSuccessAt,
      lastError: dns.lastError,
      lastKnownGoodAgeMs: dns.lastKnownGoodAgeMs,
      nextRefreshAt: dns.nextRefreshAt,
      addresses: [...dns.addresses],
      refreshes: dns.refreshes,
      condition: dns.condition,
      problem: dns.problem,
      troubleSince: dns.troubleSince,
      urgent: dns.urgent,
    },
    requests,
    inFlight,
    retries,
    responses,
    peers,
  };
}
