/*
 * Hash routes, so the admin server serves one index.html for every page: #/, #/services/<name>,
 * #/ejected, #/events, #/instances, #/add. `#token=...` is not a route: the sign-in takes it off first.
 */

export type Route =
  | { page: 'overview' }
  | { page: 'service'; name: string }
  | { page: 'ejected' }
  | { page: 'events' }
  | { page: 'instances' }
  | { page: 'add' }
  | { page: 'not-found'; path: string };

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\/?/, '/');
  if (path === '/' || path === '') return { page: 'overview' };
  if (path === '/ejected') return { page: 'ejected' };
  if (path === '/events') return { page: 'events' };
  if (path === '/instances') return { page: 'instances' };
  if (path === '/add') return { page: 'add' };
  const m = /^\/services\/([^/]+)\/?$/.exec(path);
  if (m !== null && m[1] !== undefined) {
    const name = decode(m[1]);
    if (name !== null && name !== '') return { page: 'service', name };
  }
  return { page: 'not-found', path };
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case 'overview':
      return '#/';
    case 'service':
      return `#/services/${encodeURIComponent(route.name)}`;
    case 'ejected':
      return '#/ejected';
    case 'events':
      return '#/events';
    case 'instances':
      return '#/instances';
    case 'add':
      return '#/add';
    case 'not-found':
      return `#${route.path}`;
  }
}

export const serviceHref = (name: string): string => routeHref({ page: 'service', name });
