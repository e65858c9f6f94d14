import { describe, expect, it } from 'vitest';
import { plural } from '../src/lib/format.js';
import { instanceFacts } from '../src/lib/instance-status.js';
import { eventStateText, peerReturn, routeText } from '../src/lib/service-health.js';
import { event, peer } from './fixtures.js';

describe('when a peer comes back', () => {
  it('says "when restored" for a pod held by hand, on every page alike', () => {
    expect(peerReturn(peer('a', { state: 'ejected', reason: 'operator_eject', hold: 'eject' }))).toEqual({ text: 'when restored' });
    expect(peerReturn(peer('a', { state: 'drained', reason: 'operator_drain', hold: 'drain' }))).toEqual({ text: 'when restored' });
  });

  it('gives the time of an automatic return, and nothing for a pod in rotation', () => {
    expect(peerReturn(peer('a', { state: 'ejected', reason: 'connect_refused', returnsAt: 31_000 }))).toEqual({ at: 31_000 });
    expect(peerReturn(peer('a'))).toBeNull();
  });
});

describe('routes', () => {
  it('reads a host route as host and path, and a route without a host as its path for any host', () => {
    expect(routeText({ host: 'api.example.com', pathPrefix: '/recognize' })).toEqual({ target: 'api.example.com/recognize', anyHost: false });
    expect(routeText({ pathPrefix: '/' })).toEqual({ target: '/', anyHost: true });
  });
});

describe('event states', () => {
  it('shows a move as → state, and a removed pod as what it was', () => {
    expect(eventStateText(event(1, { type: 'peer_ejected', state: 'ejected' }))).toBe('→ ejected');
    expect(eventStateText(event(2, { type: 'peer_removed', state: 'ejected' }))).toBe('was ejected');
    expect(eventStateText(event(3, { type: 'service_added' }))).toBeNull();
  });
});

describe('counts and the instance header', () => {
  it('writes a count with its noun in the singular or the plural', () => {
    expect(plural(1, 'pod')).toBe('1 pod');
    expect(plural(0, 'pod')).toBe('0 pods');
    expect(plural(12, 'request')).toBe('12 requests');
  });

  it("takes the start from the server's uptime and the answer's arrival, not from the server's clock", () => {
    const status = { id: 'h:8080', version: '0.1.0', startedAt: 5_000_000, uptimeMs: 125_000, proxy: '127.0.0.1:8080', admin: '127.0.0.1:9901', workers: 4 };
    expect(instanceFacts(status, 1_000_000)).toEqual({ version: '0.1.0', startedAt: 875_000, listen: '127.0.0.1:8080', workers: '4 workers' });
    expect(instanceFacts({ ...status, version: '', proxy: '', workers: 1 }, 1_000_000)).toMatchObject({ version: '–', listen: '–', workers: '1 worker' });
  });
});
