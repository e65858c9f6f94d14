import { LabCluster, LabDnsServer } from '@podgate/lab';
import { Podgate, resolveConfig } from '@podgate/podgate';
import type { ServiceView } from '@podgate/protocol';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { ensureDashboardBuilt } from './dashboard-build.js';

export const OPERATOR_TOKEN = 'browser-operator-0123456789abcdef';
export const VIEWER_TOKEN = 'browser-viewer-0123456789abcdef00';

export interface ClusterSpec {
  /** First label of the headless Service name: `<name>.lab.svc.cluster.local`. */
  name: string;
  /** 127.<subnet>.x.y; the browser suite keeps to 222–229 so it never meets another suite's pods. */
  subnet: number;
  /** 18460–18469 for the browser suite. */
  port: number;
  replicas: number;
  podDelayMs?: number;
}

export interface ApiReply {
  status: number;
  body: Record<string, unknown>;
}

/** One podgate instance (in this process, `workers: 1`), serving the built dashboard on its admin address. */
export interface LabInstance {
  podgate: Podgate;
  /** http://127.0.0.1:<admin port> */
  adminUrl: string;
  /** http://127.0.0.1:<proxy port> */
  proxyUrl: string;
  api(method: string, path: string, token: string, body?: unknown): Promise<ApiReply>;
}

/** podgate in front of lab clusters. */
export interface LabPodgate extends LabInstance {
  dns: LabDnsServer;
  clusters: Map<string, LabCluster>;
  cluster(name: string): LabCluster;
  /** Another podgate with the same config (so in the same fleet, if any) in front of the same DNS and pods; closed with this one. */
  startInstance(): Promise<LabInstance>;
  /** Sends `count` requests through podgate, one after the other; resolves with their statuses. */
  send(count: number, path?: string, method?: string): Promise<number[]>;
  /** Resolves once podgate lists `count` active peers for `service`. */
  waitForPeers(service: string, count: number, ms?: number): Promise<ServiceView>;
  close(): Promise<void>;
}

export function dnsNameOf(cluster: string): string {
  return `${cluster}.lab.svc.cluster.local`;
}

export interface LabPodgateOptions {
  clusters: ClusterSpec[];
  services?: Record<string, unknown>;
  /** The config's `fleet`: a LabRedis's url and a name. */
  fleet?: { redis: string; name: string };
}

/** The admin API of the instance at `adminUrl`, as `token`. */
function adminApi(adminUrl: string): LabInstance['api'] {
  return async (method, path, token, body) => {
    const res = await fetch(`${adminUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };
}

/** podgate on loopback with its own state directory, resolving through the lab's DNS. */
function startInstance(dns: LabDnsServer, o: LabPodgateOptions, dashboardDir: string): Promise<Podgate> {
  return Podgate.start(
    resolveConfig({
      listen: '127.0.0.1:0',
      workers: 1,
      stateDir: mkdtempSync(join(tmpdir(), 'podgate-browser-')),
      log: { level: 'silent', access: false },
      dns: { nameservers: [dns.nameserver], timeout: '300ms', attempts: 1, minRefresh: '200ms', maxRefresh: '2s', jitter: 0 },
      admin: {
        listen: '127.0.0.1:0',
        tokens: [
          { name: 'olivia', token: OPERATOR_TOKEN, role: 'operator' },
          { name: 'victor', token: VIEWER_TOKEN, role: 'viewer' },
        ],
      },
      services: o.services ?? {},
      ...(o.fleet === undefined ? {} : { fleet: o.fleet }),
    }),
    { dashboardDir },
  );
}

export async function startLabPodgate(o: LabPodgateOptions): Promise<LabPodgate> {
  const dashboardDir = ensureDashboardBuilt();
  const dns = await LabDnsServer.start();
  const clusters = new Map<string, LabCluster>();
  let podgate: Podgate | undefined;
  const others: Podgate[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(others.map((p) => p.close(200)));
    await podgate?.close(200);
    await Promise.all([...clusters.values()].map((c) => c.close()));
    await dns.close();
  };
  try {
    for (const spec of o.clusters) {
      const cluster = await LabCluster.start({
        dns,
        dnsName: dnsNameOf(spec.name),
        subnet: spec.subnet,
        port: spec.port,
        replicas: spec.replicas,
        podDelayMs: spec.podDelayMs,
        // One second, so a rollout shows up on the page within a couple of seconds.
        ttl: 1,
      });
      clusters.set(spec.name, cluster);
    }
    podgate = await startInstance(dns, o, dashboardDir);
  } catch (err) {
    await close();
    throw err;
  }
  const pg = podgate;
  const adminUrl = `http://${pg.adminAddress}`;
  const proxyUrl = `http://127.0.0.1:${pg.port}`;

  const api = adminApi(adminUrl);

  const send = async (count: number, path = '/recognize', method = 'POST'): Promise<number[]> => {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const res = await request(`${proxyUrl}${path}`, { method, body: method === 'POST' ? 'img' : undefined });
      await res.body.dump();
      statuses.push(res.statusCode);
    }
    return statuses;
  };

  const waitForPeers = async (service: string, count: number, ms = 5000): Promise<ServiceView> => {
    const end = Date.now() + ms;
    for (;;) {
      const view = pg.control.getService(service);
      if (view !== null && view.peers.filter((p) => p.state === 'active').length === count) return view;
      if (Date.now() > end)
        throw new Error(`${service} did not reach ${count} active peers within ${ms} ms: ${JSON.stringify(view?.peers.map((p) => [p.address, p.state]))}`);
      await sleep(25);
    }
  };

  return {
    podgate: pg,
    dns,
    clusters,
    adminUrl,
    proxyUrl,
    cluster: (name) => {
      const c = clusters.get(name);
      if (c === undefined) throw new Error(`no lab cluster ${name}`);
      return c;
    },
    api,
    send,
    waitForPeers,
    startInstance: async () => {
      const other = await startInstance(dns, o, dashboardDir);
      others.push(other);
      const url = `http://${other.adminAddress}`;
      return { podgate: other, adminUrl: url, proxyUrl: `http://127.0.0.1:${other.port}`, api: adminApi(url) };
    },
    close,
  };
}
