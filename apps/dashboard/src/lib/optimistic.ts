import type { PeerAction, PeerView, ServiceInput, ServiceView } from '@podgate/protocol';
import { byName } from './feed-cache.js';

/*
 * What the page shows between clicking and the server's answer, and how it is undone when the
 * server refuses. An undo only touches what the optimistic change wrote: if the feed brought newer
 * data for that peer or service meanwhile, the newer data stays.
 */

/**
 * The peer as it will be once the action is taken; the server's answer confirms or corrects it (a
 * drain of an idle peer goes straight on to drained there).
 */
export function optimisticPeer(peer: PeerView, action: PeerAction, now: number): PeerView {
  // Who held it, and whose evidence ejected it, no longer hold; the answer names this operator.
  const cleared = { ...peer, since: now, returnsAt: null, heldBy: null, ejectedBy: null };
  switch (action) {
    case 'drain':
      return { ...cleared, state: 'draining', reason: 'operator_drain', hold: 'drain' };
    case 'eject':
      return { ...cleared, state: 'ejected', reason: 'operator_eject', hold: 'eject' };
    case 'restore':
      return { ...cleared, state: 'active', reason: 'operator_restore', hold: null };
  }
}

/** The peer put back as it was, unless something newer than the optimistic change arrived. */
export function rollbackPeer(current: PeerView, optimistic: PeerView, previous: PeerView): PeerView {
  const untouched = current.state === optimistic.state && current.reason === optimistic.reason && current.since === optimistic.since;
  if (!untouched) return current;
  const { state, reason, since, hold, returnsAt, heldBy, ejectedBy } = previous;
  return { ...current, state, reason, since, hold, returnsAt, heldBy, ejectedBy };
}

/** The service with one peer replaced by `update(peer)`; the same object when the peer is not there. */
export function withPeer(service: ServiceView, address: string, update: (peer: PeerView) => PeerView): ServiceView {
  const index = service.peers.findIndex((p) => p.address === address);
  const peer = service.peers[index];
  if (peer === undefined) return service;
  const peers = [...service.peers];
  peers[index] = update(peer);
  return { ...service, peers };
}

/** What the overview shows for a service the server has not confirmed yet: no pods, not resolved. */
export function placeholderService(input: ServiceInput): ServiceView {
  return {
    name: input.name,
    source: 'api',
    dnsName: input.dnsName,
    port: input.port,
    routes: input.routes ?? [{ pathPrefix: '/' }],
    algorithm: input.algorithm ?? 'round_robin',
    panic: false,
    dns: {
      name: input.dnsName,
      lastRefreshAt: null,
      lastSuccessAt: null,
      lastError: null,
      lastKnownGoodAgeMs: null,
      nextRefreshAt: null,
      addresses: [],
      refreshes: { resolved: 0, failed: 0, empty: 0 },
    },
    requests: 0,
    inFlight: 0,
    retries: 0,
    responses: {},
    peers: [],
  };
}

/** The list with the placeholder added, unless a service of that name is already listed. */
export function addServiceOptimistic(list: readonly ServiceView[], placeholder: ServiceView): ServiceView[] {
  if (list.some((s) => s.name === placeholder.name)) return [...list];
  return [...list, placeholder].sort(byName);
}

/** Takes the placeholder back out, unless the real service (from the feed) replaced it meanwhile. */
export function rollbackAddService(list: readonly ServiceView[], placeholder: ServiceView): ServiceView[] {
  const current = list.find((s) => s.name === placeholder.name);
  if (current === undefined || JSON.stringify(current) !== JSON.stringify(placeholder)) return [...list];
  return list.filter((s) => s !== current);
}

/** The list without the service. */
export function removeServiceOptimistic(list: readonly ServiceView[], name: string): ServiceView[] {
  return list.filter((s) => s.name !== name);
}

/** Puts the service back, unless the feed listed it again meanwhile. */
export function rollbackRemoveService(list: readonly ServiceView[], previous: ServiceView): ServiceView[] {
  if (list.some((s) => s.name === previous.name)) return [...list];
  return [...list, previous].sort(byName);
}
