import type { StatusView } from '@podgate/protocol';
import { plural } from './format.js';

/*
 * The podgate the page talks to, for the header: its version, how long it has run, where it serves
 * clients and its workers (GET /api/v1/status).
 */

export const statusKey = ['status'] as const;

export interface InstanceFacts {
  version: string;
  /** The start by this browser's clock: the server's uptime taken back from when its answer arrived. */
  startedAt: number;
  /** Where it serves clients, host:port. */
  listen: string;
  workers: string;
}

/**
 * The facts to show, from a status that arrived at client time `receivedAt`. The uptime comes
 * from the server's own clock, so a browser whose clock is off still shows the right one.
 */
export function instanceFacts(status: StatusView, receivedAt: number): InstanceFacts {
  return {
    version: status.version === '' ? '–' : status.version,
    startedAt: receivedAt - status.uptimeMs,
    listen: status.proxy === '' ? '–' : status.proxy,
    workers: plural(status.workers, 'worker'),
  };
}
