import { describe, expect, it } from 'vitest';
import {
  addServiceOptimistic,
  optimisticPeer,
  placeholderService,
  removeServiceOptimistic,
  rollbackAddService,
  rollbackPeer,
  rollbackRemoveService,
  withPeer,
} from '../src/lib/optimistic.js';
import { peer, service } from './fixtures.js';

describe('peer actions, optimistically', () => {
  const active = peer('127.10.0.1:80', { inFlight: 3, since: 100 });

  it('shows drain as draining held by the operator, eject as ejected with no automatic return, restore as active', () => {
    expect(optimisticPeer(active, 'drain', 500)).toMatchObject({ state: 'draining', hold: 'drain', reason: 'operator_drain', since: 500 });
    const ejected = optimisticPeer(peer('a', { state: 'ejected', returnsAt: 9000 }), 'eject', 500);
    expect(ejected).toMatchObject({ state: 'ejected', hold: 'eject', returnsAt: null });
    expect(optimisticPeer(peer('a', { state: 'drained', hold: 'drain' }), 'restore', 500)).toMatchObject({ state: 'active', hold: null });
  });

  it("forgets who held the peer and whose evidence ejected it until the server's answer names them", () => {
    const hinted = peer('a', { state: 'ejected', reason: 'connect_refused', ejectedBy: 'host:8081' });
    expect(optimisticPeer(hinted, 'restore', 500)).toMatchObject({ heldBy: null, ejectedBy: null });
    const drained = peer('a', { state: 'drained', hold: 'drain', heldBy: { actor: 'alice', instance: 'host:8081', at: 100 } });
    expect(optimisticPeer(drained, 'eject', 500)).toMatchObject({ hold: 'eject', heldBy: null });
  });

  it('puts back who held the peer when the server refuses', () => {
    const heldBy = { actor: 'alice', instance: 'host:8081', at: 100 };
    const drained = peer('a', { state: 'drained', hold: 'drain', reason: 'operator_drain', heldBy });
    const optimistic = optimisticPeer(drained, 'restore', 500);
    expect(rollbackPeer(optimistic, optimistic, drained)).toMatchObject({ state: 'drained', hold: 'drain', heldBy });
  });

  it('rolls back to the previous state when nothing newer arrived', () => {
    const optimistic = optimisticPeer(active, 'eject', 500);
    const rolled = rollbackPeer(optimistic, optimistic, active);
    expect(rolled).toMatchObject({ state: 'active', hold: null, reason: 'dns', since: 100 });
  });

  it('keeps newer server data on rollback', () => {
    const optimistic = optimisticPeer(active, 'drain', 500);
    const fromFeed = { ...active, state: 'terminating', reason: 'removed_from_dns', since: 700 };
    expect(rollbackPeer(fromFeed, optimistic, active)).toBe(fromFeed);
  });

  it('replaces one peer of a service and leaves the service alone for an unknown address', () => {
    const s = service('web', { peers: [active, peer('127.10.0.2:80')] });
    const next = withPeer(s, '127.10.0.1:80', (p) => optimisticPeer(p, 'drain', 1));
    expect(next.peers[0]?.state).toBe('draining');
    expect(next.peers[1]).toBe(s.peers[1]);
    expect(withPeer(s, '127.9.9.9:80', (p) => p)).toBe(s);
  });
});

describe('adding and removing services, optimistically', () => {
  const input = { name: 'bravo', dnsName: 'bravo.local', port: 80, routes: [{ pathPrefix: '/b' }] };

  it('lists the new service at once, in name order, with no pods and DNS not yet asked', () => {
    const placeholder = placeholderService(input);
    const list = addServiceOptimistic([service('alpha'), service('charlie')], placeholder);
    expect(list.map((s) => s.name)).toEqual(['alpha', 'bravo', 'charlie']);
    expect(placeholder.peers).toEqual([]);
    expect(placeholder.dns.lastRefreshAt).toBeNull();
    expect(placeholder.source).toBe('api');
  });

  it('rolls the placeholder back on error', () => {
    const placeholder = placeholderService(input);
    const list = addServiceOptimistic([service('alpha')], placeholder);
    expect(rollbackAddService(list, placeholder).map((s) => s.name)).toEqual(['alpha']);
  });

  it('does not replace nor roll back an existing service of the same name (the 409 case)', () => {
    const existing = service('bravo', { requests: 7 });
    const placeholder = placeholderService(input);
    const list = addServiceOptimistic([existing], placeholder);
    expect(list).toEqual([existing]);
    expect(rollbackAddService(list, placeholder)).toEqual([existing]);
  });

  it('keeps the real service if the feed delivered it before the error', () => {
    const placeholder = placeholderService(input);
    const real = service('bravo', { peers: [peer('127.10.0.1:80')] });
    expect(rollbackAddService([real], placeholder)).toEqual([real]);
  });

  it('removes a service at once and puts it back on error', () => {
    const web = service('web');
    const list = removeServiceOptimistic([service('api'), web], 'web');
    expect(list.map((s) => s.name)).toEqual(['api']);
    expect(rollbackRemoveService(list, web).map((s) => s.name)).toEqual(['api', 'web']);
    expect(rollbackRemoveService([web], web)).toEqual([web]);
  });
});
