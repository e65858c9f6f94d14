import type { Peer } from '@podgate/balancer';
import type { Logger } from 'pino';
import type { Pool } from 'undici';
import type { ProxyRequest } from './proxy-request.js';

/** What a request needs from the server around it. */
export interface ProxyContext {
  readonly logger: Logger;
  accessLog(request: ProxyRequest, status: number, durationMs: number, tried: readonly Peer<Pool>[]): void;
}
