import { describe, expect, it } from 'vitest';
import { olderPage } from '../src/lib/event-pages.js';
import { parseHash, routeHref } from '../src/lib/hash-route.js';
import { serviceProblems, stateCounts } from '../src/lib/service-health.js';
import { TOKEN_KEY, takeToken, tokenFromHash } from '../src/lib/session.js';
import { event, peer, service } from './fixtures.js';

describe('hash routes', () => {
  it('parses every page', () => {
    expect(parseHash('')).toEqual({ page: 'overview' });
    expect(parseHash('#/')).toEqual({ page: 'overview' });
    expect(parseHash('#/ejected')).toEqual({ page: 'ejected' });
    expect(parseHash('#/events')).toEqual({ page: 'events' });
    expect(parseHash('#/instances')).toEqual({ page: 'instances' });
    expect(parseHash('#/add')).toEqual({ page: 'add' });
    expect(parseHash('#/services/image-lobby')).toEqual({ page: 'service', name: 'image-lobby' });
    expect(parseHash('#/nope')).toEqual({ page: 'not-found', path: '/nope' });
    expect(parseHash('#/services/%E0%A4%A')).toEqual({ page: 'not-found', path: '/services/%E0%A4%A' });
  });
  it('round-trips a service route', () => {
    expect(parseHash(routeHref({ page: 'service', name: 'web' }))).toEqual({ page: 'service', name: 'web' });
  });
  it('round-trips the instances route', () => {
    expect(routeHref({ page: 'instances' })).toBe('#/instances');
    expect(parseHash(routeHref({ page: 'instances' }))).toEqual({ page: 'instances' });
  });
});

describe('sign-in token', () => {
  it('reads #token=... and nothing else', () => {
    expect(tokenFromHash('#token=abc123')).toBe('abc123');
    expect(tokenFromHash('#token=a%2Bb&x=1')).toBe('a+b');
    expect(tokenFromHash('#/services/web')).toBeNull();
    expect(tokenFromHash('#token=')).toBeNull();
  });

  it('moves the token from the URL into session storage and takes it off the URL', () => {
    const store = new Map<string, string>();
    const replaced: string[] = [];
    const token = takeToken({
      location: { hash: '#token=XYZ', pathname: '/', search: '' },
      history: { state: null, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) },
      storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) },
    });
    expect(token).toBe('XYZ');
    expect(store.get(TOKEN_KEY)).toBe('XYZ');
    expect(replaced).toEqual(['/#/']);
  });
});

describe('service health', () => {
  it('counts pods by state', () => {
    const s = service('web', { peers: [peer('a'), peer('b', { state: 'ejected' }), peer('c', { state: 'draining' }), peer('d', { state: 'terminating' })] });
    expect(stateCounts(s)).toEqual({ active: 1, ejected: 1, draining: 1, drained: 0, terminating: 1 });
  });

  it('flags ejections, a failing DNS and no usable pod; a healthy service has none', () => {
    expect(serviceProblems(service('web', { peers: [peer('a')] }))).toEqual([]);
    const bad = service('web', {
      peers: [peer('a', { state: 'ejected' })],
      dns: { ...service('x').dns, lastSuccessAt: 1000, lastError: { code: 'ETIMEOUT', message: 'timed out', at: 2000 } },
    });
    expect(serviceProblems(bad).map((p) => p.kind)).toEqual(['no_usable_peer', 'ejections', 'dns_failing']);
  });

  it('does not flag a service still resolving for the first time', () => {
    const fresh = service('web', { dns: { ...service('x').dns, lastRefreshAt: null, lastSuccessAt: null } });
    expect(serviceProblems(fresh)).toEqual([]);
  });
});

describe('older events', () => {
  it('asks for the page of ids just below the oldest held', () => {
    expect(olderPage([event(350), event(301)], 100)).toEqual({ since: 200, limit: 100 });
    expect(olderPage([event(40)], 100)).toEqual({ since: 0, limit: 39 });
    expect(olderPage([event(1)], 100)).toBeNull();
    expect(olderPage([], 100)).toBeNull();
  });
});
