import type { Peer, PeerTable } from '@podgate/balancer';
import type { DnsRefresher } from '@podgate/discovery';
import type { ServiceConfig } from '@podgate/protocol';
import type { PeerSync, ToWorker } from '@podgate/proxy';
import type { PeerLatency } from './views.js';

/** One service as the primary runs it: its authoritative peer table and its DNS loop. */
export interface ServiceEntry {
  config: ServiceConfig;
  source: 'config' | 'api';
  table: PeerTable<PeerLatency>;
  refresher: DnsRefresher;
  /** Id of the last DNS trouble event recorded, which identical repeats grow (count) instead of adding events. */
  dnsEventId: number | null;
  /** The `reason` of the last peers message (why DNS gives no pods), so a change is sent even when the set is not. */
  sentReason: string | null;
}

/** A peer's state as a worker's replica table takes it. */
export function peerSync(peer: Peer<PeerLatency>): PeerSync {
  return { address: peer.address, state: peer.state, reason: peer.reason, until: peer.ejectedUntil, hold: peer.hold };
}

/** The service's listed peers for the workers, with the states that are not active; notes the reason sent. */
export function peersMessage(service: string, entry: ServiceEntry): ToWorker {
  const addresses: string[] = [];
  const states: PeerSync[] = [];
  for (const peer of entry.table.list()) {
    if (!peer.listed) continue;
    addresses.push(peer.address);
    if (peer.state !== 'active') states.push(peerSync(peer));
  }
  entry.sentReason = addresses.length === 0 ? emptyReason(entry) : null;
  return { type: 'peers', service, addresses, states, reason: entry.sentReason };
}

/** Why DNS gives a service no pods, for the 503 its clients get: not an answer yet, no records, or a failing nameserver. */
export function emptyReason(entry: ServiceEntry): string {
  const dns = entry.refresher.status();
  if (dns.problem !== null) return dns.problem;
  if (dns.condition === 'resolving') return `no DNS answer yet for ${entry.config.dnsName} (still resolving)`;
  return `DNS name ${entry.config.dnsName} lists no addresses`;
}
