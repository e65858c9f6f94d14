import { findRouteConflicts, type ServiceConfig } from '@podgate/protocol';

/**
 * The first route of `service` that `running` already serves, in one line, or null: the
 * route-conflict rule of @podgate/protocol, the one the config file is checked by.
 */
export function routeConflict(service: ServiceConfig, running: ServiceConfig): string | null {
  const clash = findRouteConflicts([running, service]).find((c) => c.service === service.name && c.claimedBy === running.name);
  return clash === undefined ? null : `route ${clash.key} of service ${service.name} is already served by service ${running.name}`;
}

/** Same configuration (so a reload leaves the service running untouched). */
export function sameService(a: ServiceConfig, b: ServiceConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
