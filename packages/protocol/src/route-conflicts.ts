import type { RouteConfig } from './config.js';

/** A route that an earlier route already claims. */
export interface RouteConflict {
  /** The service whose route is refused, and the route's index in its list. */
  service: string;
  route: number;
  /** The service and route that claimed it first (possibly the same service). */
  claimedBy: string;
  claimedRoute: number;
  /** The route as messages show it: `api.example.com/recognize`, `(any host)/`. */
  key: string;
}

/** `api.example.com/recognize`, or `(any host)/` for a route without a host. */
export function routeKey(route: RouteConfig): string {
  return `${route.host ?? '(any host)'}${route.pathPrefix}`;
}

/**
 * Two routes conflict when they have the same host (or both none) and the same pathPrefix: the
 * router could not tell which service a request is for. Routes are claimed in order, so every
 * conflict names the later route and the first one that claimed it. The config file, the admin API
 * (a new service against the running ones) and anything else that adds routes use this rule.
 */
export function findRouteConflicts(services: readonly { name: string; routes: readonly RouteConfig[] }[]): RouteConflict[] {
  const conflicts: RouteConflict[] = [];
  const claimed = new Map<string, { service: string; route: number }>();
  for (const service of services) {
    service.routes.forEach((route, index) => {
      const key = routeKey(route);
      const first = claimed.get(key);
      if (first === undefined) claimed.set(key, { service: service.name, route: index });
      else conflicts.push({ service: service.name, route: index, claimedBy: first.service, claimedRoute: first.route, key });
    });
  }
  return conflicts;
}
