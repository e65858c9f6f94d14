import type { ServiceConfig } from '@podgate/protocol';

/** Two services may not answer the same Host + path prefix; returns the clash in one line, or null. */
export function routeConflict(a: ServiceConfig, b: ServiceConfig): string | null {
  for (const ra of a.routes) {
    for (const rb of b.routes) {
      if (ra.pathPrefix === rb.pathPrefix && (ra.host ?? '') === (rb.host ?? '')) {
        const where = `${ra.host ?? 'any host'} ${ra.pathPrefix}`;
        return `route ${where} of service ${a.name} is already served by service ${b.name}`;
      }
    }
  }
  return null;
}

/** Same configuration (so a reload leaves the service running untouched). */
export function sameService(a: ServiceConfig, b: ServiceConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
