/*
 * The data plane: the proxy server that serves clients, the agent that ties it to a control plane,
 * the messages they exchange, and the probes the control plane borrows to confirm a peer's return.
 */
export { ProxyServer, type ProxyServerOptions } from './proxy-server.js';
export { DataPlaneAgent } from './data-plane-agent.js';
export type { DataPlaneNotice } from './service-runtime.js';
export { aliveProbe, httpProbe, type ProbeResult } from './peer-probe.js';
export * from './messages.js';
