/** What a load run sends. Bodies and concurrencies as in issue 6. */
export interface Workload {
  id: 'get' | 'post64k' | 'post1m';
  label: string;
  method: 'GET' | 'POST';
  bodyBytes: number;
  /** wrk -c: keep-alive connections, one request in flight on each (no pipelining). */
  connections: number;
}

export const WORKLOADS: readonly Workload[] = [
  { id: 'get', label: 'GET, ~100 B reply', method: 'GET', bodyBytes: 0, connections: 64 },
  { id: 'post64k', label: 'POST 64 KiB body', method: 'POST', bodyBytes: 64 * 1024, connections: 64 },
  // Fewer connections: 64 × 1 MiB in flight measures memory bandwidth more than the proxy.
  { id: 'post1m', label: 'POST 1 MiB body', method: 'POST', bodyBytes: 1024 * 1024, connections: 8 },
];
