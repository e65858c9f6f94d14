/*
 * What a data-plane worker process needs, and nothing of the control plane (fastify, the admin
 * API, metrics, the live feed): a worker loads only this, which keeps its heap small (full
 * collections walk all of it) and its RSS lower.
 */
export { ProxyServer } from './proxy-server.js';
export { DataPlaneAgent } from './control/data-plane-agent.js';
export type { ToPrimary, ToWorker, WorkerInspection } from './control/messages.js';
