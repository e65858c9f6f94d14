import type { DnsView, EventView, PeerState, PeerView, RouteConfig, ServiceView } from '@podgate/protocol';

/*
 * What the overview says about a service at a glance: its pods by state and what is wrong with
 * it, in the operator's words.
 */

/** In the order a rollout goes through them. */
export const STATE_ORDER = ['active', 'draining', 'drained', 'ejected', 'terminating'] as const satisfies readonly PeerState[];

export type StateCounts = Record<PeerState, number>;

// The schema's union of literals reads as `string` on the TypeScript side; a state this build does
// not know is left out of the counts rather than miscounted.
export function isPeerState(state: string): state is PeerState {
  return (STATE_ORDER as readonly string[]).includes(state);
}

export function stateCounts(service: ServiceView): StateCounts {
  const counts: StateCounts = { active: 0, ejected: 0, draining: 0, drained: 0, terminating: 0 };
  for (const p of service.peers) if (isPeerState(p.state)) counts[p.state]++;
  return counts;
}

export interface Problem {
  /** Stable key, for React and for tests. */
  kind: 'no_usable_peer' | 'ejections' | 'dns_failing' | 'dns_empty' | 'panic';
  text: string;
}

export type DnsCondition = 'resolving' | 'resolved' | 'empty' | 'failing';

/**
 * No answer yet, addresses, no records (NXDOMAIN or NODATA: a real answer), or the nameserver
 * failing (refused, timed out, SERVFAIL: the answer is unknown). From the server's `condition`;
 * a server without it is read from the last error's code.
 */
export function dnsCondition(dns: DnsView): DnsCondition {
  if (dns.condition !== undefined) return dns.condition as DnsCondition;
  const { lastError, lastSuccessAt } = dns;
  if (lastError !== null && (lastSuccessAt === null || lastError.at >= lastSuccessAt)) {
    return lastError.code === 'ENOTFOUND' || lastError.code === 'ENODATA' ? 'empty' : 'failing';
  }
  return dns.lastSuccessAt === null ? 'resolving' : 'resolved';
}

/** True while the nameserver fails (a success since then clears it); a name without records is not a failure. */
export function dnsFailing(dns: DnsView): boolean {
  return dnsCondition(dns) === 'failing';
}

/** What the last refresh found wrong, short: `127.0.0.1:53: connection refused`, `NXDOMAIN from …`. */
export function dnsCause(dns: DnsView): string {
  const error = dns.lastError;
  return error === null ? 'error' : error.message === '' ? error.code : error.message;
}

/** Why a service shows no pods, from its DNS status. */
export function noPodsText(dns: DnsView, dnsName: string): string {
  const condition = dnsCondition(dns);
  if (condition === 'resolving') return 'DNS has not answered yet.';
  if (condition === 'failing') return `${dns.problem ?? `DNS lookup of ${dnsName} failed: ${dnsCause(dns)}`}; no pods known from before.`;
  if (condition === 'empty') return `${dns.problem ?? dnsCause(dns)}.`;
  return `DNS lists no address for ${dnsName}.`;
}

/** `×12, last 12:03:04` for an event that stands for several identical ones in a row; null for one. */
export function repeatText(event: EventView, clock: (at: number) => string): string | null {
  if (event.count === undefined || event.count <= 1) return null;
  return event.lastAt === undefined ? `×${event.count}` : `×${event.count}, last ${clock(event.lastAt)}`;
}

/**
 * An event's state: `→ ejected` for a move. A pod gone from DNS moves nowhere: its `state` is the one
 * it had when it left, so `was ejected` (it read `peer_removed … → ejected`).
 */
export function eventStateText(event: Pick<EventView, 'type' | 'state'>): string | null {
  if (event.state === undefined) return null;
  return event.type === 'peer_removed' ? `was ${event.state}` : `→ ${event.state}`;
}

/** Problems, most serious first; empty for a healthy service (or one still resolving for the first time). */
export function serviceProblems(service: ServiceView): Problem[] {
  const problems: Problem[] = [];
  const counts = stateCounts(service);
  const resolvedOnce = service.dns.lastRefreshAt !== null;
  if (counts.active === 0 && (resolvedOnce || service.peers.length > 0)) {
    problems.push({ kind: 'no_usable_peer', text: 'no usable pod' });
  }
  if (service.panic) problems.push({ kind: 'panic', text: 'panic: routing to ejected pods' });
  if (counts.ejected > 0) problems.push({ kind: 'ejections', text: `${counts.ejected} ejected` });
  const dns = dnsCondition(service.dns);
  if (dns === 'failing') problems.push({ kind: 'dns_failing', text: `DNS failing: ${dnsCause(service.dns)}` });
  else if (dns === 'empty') problems.push({ kind: 'dns_empty', text: `DNS: ${service.dns.lastError?.code === 'ENODATA' ? 'no records' : 'no such name'}` });
  return problems;
}

/** Peers that on-call looks at first: out of rotation by ejection or drain. */
export const OUT_OF_ROTATION: ReadonlySet<string> = new Set<PeerState>(['ejected', 'draining', 'drained']);

/**
 * When a peer out of rotation comes back: at its automatic return (`at`), when an operator restores
 * it (a drain or an ejection by hand has no return time), or nothing to say (null). The pods table
 * and the ejected peers say the same.
 */
export function peerReturn(peer: Pick<PeerView, 'returnsAt' | 'hold'>): { at: number } | { text: string } | null {
  if (peer.returnsAt !== null) return { at: peer.returnsAt };
  if (peer.hold !== null) return { text: 'when restored' };
  return null;
}

/** A route as requests match it: `api.example.com/recognize`, or the path alone when any host will do. */
export function routeText(route: Pick<RouteConfig, 'host' | 'pathPrefix'>): { target: string; anyHost: boolean } {
  return route.host === undefined ? { target: route.pathPrefix, anyHost: true } : { target: `${route.host}${route.pathPrefix}`, anyHost: false };
}
