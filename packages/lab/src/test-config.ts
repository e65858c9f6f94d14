import type { PodgateConfig, ServiceConfig } from '@podgate/protocol';
import { request as httpRequest } from 'node:http';

/*
 * Resolved configs for tests that drive the proxy or the control plane without the config loader,
 * and a request that may carry any header.
 */

export type ServiceOverrides = { [K in keyof ServiceConfig]?: ServiceConfig[K] extends object ? Partial<ServiceConfig[K]> : ServiceConfig[K] };

/** A service as the config loader would resolve it, with the documented defaults. */
export function serviceConfig(name: string, port: number, overrides: ServiceOverrides = {}): ServiceConfig {
  const base: ServiceConfig = {
    name,
    dnsName: `${name}.lab.svc.cluster.local`,
    port,
    routes: [{ pathPrefix: '/' }],
    algorithm: 'round_robin',
    retry: {
      tries: 3,
      on: ['error', 'timeout', 'invalid_header', 'http_502', 'http_500', 'non_idempotent'],
      deadlineMs: 30_000,
      budget: { percent: 20, minPerSecond: 10 },
    },
    timeouts: { connectMs: 2000, responseHeaderMs: 10_000, idleMs: 60_000 },
    keepalive: { connections: 64, idleTimeoutMs: 30_000 },
    body: { bufferBytes: 1024 * 1024, maxBytes: 10 * 1024 * 1024 },
    ejection: { consecutive5xx: 5, baseMs: 30_000, maxMs: 300_000, maxEjectedPercent: 50 },
    rescue: { enabled: true, stallFactor: 5, minStallMs: 150, probeTimeoutMs: 250 },
    connectHedge: { enabled: true, factor: 10, minDelayMs: 50 },
    hedge: { methods: ['GET', 'HEAD'] },
    returnProbe: { path: '', timeoutMs: 1000 },
    slowStart: { windowMs: 0 },
  };
  const merged = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    merged[key] =
      value !== null && typeof value === 'object' && !Array.isArray(value) && typeof current === 'object' ? { ...(current as object), ...value } : value;
  }
  return merged as unknown as ServiceConfig;
}

export function proxyConfig(services: ServiceConfig[]): PodgateConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    dns: { nameservers: ['127.0.0.1:53'], timeoutMs: 500, attempts: 2, minRefreshMs: 1000, maxRefreshMs: 30_000, emptyGraceMs: 30_000, jitter: 0 },
    client: { headerTimeoutMs: 2000, requestTimeoutMs: 5000, keepAliveTimeoutMs: 7000, maxHeaderBytes: 16 * 1024 },
    front: 'auto',
    log: { level: 'silent', access: false },
    services,
    workers: 1,
    stateDir: '',
    admin: { listen: { host: '127.0.0.1', port: 0 }, tokens: [], allowedOrigins: [], feed: { maxConnections: 64, maxConnectionsPerToken: 16 } },
    fleet: { redis: '', name: 'podgate' },
  };
}

/** A request through node:http, which (unlike undici) lets a test send any header it likes. */
export function nodeRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
