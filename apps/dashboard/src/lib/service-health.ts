import type { DnsView, PeerState, ServiceView } from '@podgate/protocol';

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
  kind: 'no_usable_peer' | 'ejections' | 'dns_failing' | 'panic';
  text: string;
}

/** True while the last DNS refresh failed (a success since then clears it). */
export function dnsFailing(dns: DnsView): boolean {
  const { lastError, lastSuccessAt } = dns;
  return lastError !== null && (lastSuccessAt === null || lastError.at >= lastSuccessAt);
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
  if (dnsFailing(service.dns)) problems.push({ kind: 'dns_failing', text: `DNS failing: ${service.dns.lastError?.code ?? 'error'}` });
  return problems;
}

/** Peers that on-call looks at first: out of rotation by ejection or drain. */
export const OUT_OF_ROTATION: ReadonlySet<string> = new Set<PeerState>(['ejected', 'draining', 'drained']);
