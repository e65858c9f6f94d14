import type { RouteConfig } from '@podgate/protocol';

interface Entry<S> {
  prefix: string;
  target: S;
}

/**
 * Host + longest path prefix → target, as nginx does it: routes for the request's Host win over
 * host-less routes; inside the chosen set, the longest matching prefix wins (a plain string
 * prefix, like nginx `location /api` and Envoy `prefix`). Lists are pre-sorted at build time so a
 * lookup is one map get and a short scan.
 */
export class Router<S> {
  private readonly byHost = new Map<string, Entry<S>[]>();
  private readonly anyHost: Entry<S>[] = [];

  constructor(routes: readonly { route: RouteConfig; target: S }[]) {
    for (const { route, target } of routes) {
      const entry = { prefix: route.pathPrefix, target };
      if (route.host === undefined) {
        this.anyHost.push(entry);
      } else {
        let list = this.byHost.get(route.host);
        if (list === undefined) this.byHost.set(route.host, (list = []));
        list.push(entry);
      }
    }
    const longestFirst = (a: Entry<S>, b: Entry<S>): number => b.prefix.length - a.prefix.length;
    this.anyHost.sort(longestFirst);
    for (const list of this.byHost.values()) list.sort(longestFirst);
  }

  /** `host` is the Host header as sent (any case, maybe with a port); `url` the request target. */
  match(host: string | undefined, url: string): S | null {
    if (host !== undefined && this.byHost.size > 0) {
      const list = this.byHost.get(hostName(host));
      if (list !== undefined) {
        const hit = longest(list, url);
        if (hit !== null) return hit;
      }
    }
    return longest(this.anyHost, url);
  }
}

function longest<S>(list: readonly Entry<S>[], url: string): S | null {
  for (let i = 0; i < list.length; i++) {
    const e = list[i] as Entry<S>;
    if (url.startsWith(e.prefix)) return e.target;
  }
  return null;
}

/** Lower-cased host without the port (keeps IPv6 brackets). */
export function hostName(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.lastIndexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}
