import { describe, expect, it } from 'vitest';
import { olderPage } from '../src/lib/event-pages.js';
import { parseHash, routeHref } from '../src/lib/hash-route.js';
import { serviceProblems, stateCounts } from '../src/lib/service-health.js';
import { forgetToken, storeToken, TOKEN_KEY, takeToken, tokenFromHash, type StorageLike, type TokenStores } from '../src/lib/session.js';
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
    const session = memoryStorage();
    const local = memoryStorage();
    const replaced: string[] = [];
    const found = takeToken({
      location: { hash: '#token=XYZ', pathname: '/', search: '' },
      history: { state: null, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) },
      stores: { session, local },
    });
    expect(found).toEqual({ token: 'XYZ', remembered: false });
    expect(session.getItem(TOKEN_KEY)).toBe('XYZ');
    // Not remembered unless asked: localStorage outlives the tab.
    expect(local.getItem(TOKEN_KEY)).toBeNull();
    expect(replaced).toEqual(['/#/']);
  });

  it('opens a second tab signed in when the token is remembered on this browser, and only then', () => {
    const local = memoryStorage();
    const first = { session: memoryStorage(), local };
    storeToken(first, 'tab-token', false);
    expect(takeToken(env('#/', { session: memoryStorage(), local }))).toBeNull();

    storeToken(first, 'tab-token', true);
    const second = { session: memoryStorage(), local };
    expect(takeToken(env('#/services/web', second))).toEqual({ token: 'tab-token', remembered: true });
    expect(second.session.getItem(TOKEN_KEY)).toBe('tab-token');
  });

  it('replaces a remembered token with one from the URL, and forgets both on sign-out', () => {
    const stores = { session: memoryStorage(), local: memoryStorage() };
    storeToken(stores, 'old', true);
    expect(takeToken(env('#token=new', stores))).toEqual({ token: 'new', remembered: true });
    expect(stores.local.getItem(TOKEN_KEY)).toBe('new');
    forgetToken(stores);
    expect(stores.session.getItem(TOKEN_KEY)).toBeNull();
    expect(stores.local.getItem(TOKEN_KEY)).toBeNull();
  });

  it('works without storage when the browser refuses it', () => {
    const refusing = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('SecurityError');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    };
    const stores = { session: refusing, local: null };
    expect(takeToken(env('#token=abc', stores))).toEqual({ token: 'abc', remembered: false });
    expect(() => storeToken(stores, 'abc', true)).not.toThrow();
    expect(() => forgetToken(stores)).not.toThrow();
  });
});

function memoryStorage(): StorageLike {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

function env(hash: string, stores: TokenStores) {
  return { location: { hash, pathname: '/', search: '' }, history: { state: null, replaceState: () => undefined }, stores };
}

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
