/*
 * The control plane: discovery, the peer states it decides and keeps (state store, event log,
 * views), the admin API, the live feed and the metrics, attached to data planes by messages.
 */
export * from './admin/auth.js';
export * from './control-api.js';
export * from './control-plane.js';
export * from './in-process.js';
export * from './metrics/metrics.js';
export * from './state-types.js';
export * from './admin/admin-server.js';
export * from './feed/live-feed.js';
export * from './state-store.js';
export { parseService } from './parse-service.js';
