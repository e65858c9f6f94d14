import { describe, expect, it } from 'vitest';
import { findRouteConflicts, type RouteConfig } from '../src/index.js';

const svc = (name: string, ...routes: RouteConfig[]) => ({ name, routes });

describe('route conflicts: the same host (or both none) and the same pathPrefix', () => {
  it('names the later route and the first one that claimed it, across services and within one', () => {
    const conflicts = findRouteConflicts([
      svc('a', { host: 'api.example.com', pathPrefix: '/recognize' }, { pathPrefix: '/' }),
      svc('b', { pathPrefix: '/b' }, { host: 'api.example.com', pathPrefix: '/recognize' }, { pathPrefix: '/b' }),
      svc('c', { pathPrefix: '/' }),
    ]);
    expect(conflicts).toEqual([
      { service: 'b', route: 1, claimedBy: 'a', claimedRoute: 0, key: 'api.example.com/recognize' },
      { service: 'b', route: 2, claimedBy: 'b', claimedRoute: 0, key: '(any host)/b' },
      { service: 'c', route: 0, claimedBy: 'a', claimedRoute: 1, key: '(any host)/' },
    ]);
  });

  it('lets routes differing in host, or in pathPrefix alone, live side by side', () => {
    const conflicts = findRouteConflicts([
      svc('a', { pathPrefix: '/x' }, { host: 'a.example.com', pathPrefix: '/x' }),
      svc('b', { host: 'b.example.com', pathPrefix: '/x' }, { pathPrefix: '/x/' }, { pathPrefix: '/X' }),
    ]);
    expect(conflicts).toEqual([]);
  });
});
