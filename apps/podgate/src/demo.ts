import { LabCluster, LabDnsServer, LabRedis, redisServerPath, runLoad, type LoadReport } from '@podgate/lab';
import type { PodgateConfig } from '@podgate/protocol';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '@podgate/config';
import { playScenes, type Operate } from './demo-scenes.js';

export interface Demo {
  /** One config per podgate instance: one, or a fleet's (`--fleet N`). */
  configs: PodgateConfig[];
  /** A fleet's operator token, the same on every instance (a lone instance generates its own). */
  token: string | null;
  /** Each service's lab pods, by service name. */
  clusters: ReadonlyMap<string, LabCluster>;
  dns: LabDnsServer;
  /**
   * Background traffic through podgate to each service, and the scenes of demo-scenes.ts (rollouts,
   * a lost node, a drain, a DNS failure, a crash), so the dashboard has something to show. Bounded:
   * it stops by itself after an hour, and at stopTraffic() or close(). `operate` drains and
   * restores a pod as an operator would (no drain without it).
   */
  startTraffic(proxyUrl: string, options?: { ratePerSecond?: number; sceneEveryMs?: number; operate?: Operate }): void;
  /** Stops starting requests and scenes (those under way end by themselves or at close()). */
  stopTraffic(): void;
  close(): Promise<void>;
}

// The demo's background load ends on its own after this long (and this many requests).
const TRAFFIC_LIMIT_MS = 60 * 60_000;
// Every pod of every service listens on this port, each on its own 127.x address.
const POD_PORT = 18080;

interface DemoService {
  replicas: number;
  /** Second octet of the pods' addresses (127.<subnet>.x.y). */
  subnet: number;
  pathPrefix: string;
  /** The background request, and its share of `--rate`. */
  load: { method: 'GET' | 'POST'; path: string; bodyBytes: number; share: number };
}

/**
 * Three shapes of service: image-lobby, fast, rolled every minute (its `/recognize` is the curl
 * line's); reports, whose answers take 3 s (`/slow/3000`), so a drain or a rollout lasts as long;
 * search, whose DNS name fails for a while and whose pod crashes and comes back.
 */
const SERVICES: Record<string, DemoService> = {
  'image-lobby': { replicas: 4, subnet: 77, pathPrefix: '/', load: { method: 'POST', path: '/recognize', bodyBytes: 4096, share: 1 } },
  reports: { replicas: 3, subnet: 78, pathPrefix: '/slow/', load: { method: 'GET', path: '/slow/3000', bodyBytes: 0, share: 0.1 } },
  search: { replicas: 3, subnet: 79, pathPrefix: '/echo', load: { method: 'GET', path: '/echo?q=pods', bodyBytes: 0, share: 0.25 } },
};

function dnsNameOf(service: string): string {
  return `${service}.demo.svc.cluster.local`;
}

/**
 * `podgate demo`: the lab's DNS server and three services of pods on loopback, and a config for
 * them, so a newcomer sees real requests balanced, and pods come and go, with one command.
 */
export async function startDemo(listenPort = 8080, options: { fleet?: number } = {}): Promise<Demo> {
  const instances = options.fleet ?? 1;
  if (instances > 1 && redisServerPath() === null) {
    throw Object.assign(new Error('--fleet needs redis-server (apt-get install -y redis-server): the demo starts one of its own on loopback'), {
      code: 'PODGATE_USAGE',
    });
  }
  const stateDir = await mkdtemp(join(tmpdir(), 'podgate-demo-'));
  const dns = await LabDnsServer.start({ host: '127.0.0.1', port: 0 });
  const clusters = new Map<string, LabCluster>();
  let redis: LabRedis | null = null;
  try {
    for (const [name, s] of Object.entries(SERVICES)) {
      clusters.set(name, await LabCluster.start({ dns, dnsName: dnsNameOf(name), replicas: s.replicas, ttl: 5, port: POD_PORT, subnet: s.subnet }));
    }
    redis = instances > 1 ? await LabRedis.start({ appendonly: true }) : null;
  } catch (err) {
    await Promise.all([...clusters.values()].map((c) => c.close()));
    await dns.close();
    await rm(stateDir, { recursive: true, force: true });
    throw err;
  }
  const token = redis === null ? null : randomBytes(18).toString('base64url');
  const services = Object.fromEntries(
    Object.entries(SERVICES).map(([name, s]) => [name, { dnsName: dnsNameOf(name), port: POD_PORT, routes: [{ pathPrefix: s.pathPrefix }] }]),
  );
  const configs = Array.from({ length: instances }, (_, i) =>
    resolveConfig({
      listen: `127.0.0.1:${listenPort + i}`,
      dns: { nameservers: [dns.nameserver], timeout: '500ms', attempts: 2 },
      // Access lines off: the background traffic would bury the demo's instructions.
      log: { level: 'info', access: false },
      workers: 1,
      // A fresh state directory each run: the demo always generates (and prints) a new token.
      stateDir: join(stateDir, `instance-${i + 1}`),
      admin: { listen: `127.0.0.1:${9901 + i}`, tokens: token === null ? [] : [{ name: 'demo', token, role: 'operator' }] },
      services,
      fleet: redis === null ? {} : { redis: redis.url, name: 'demo' },
    }),
  );
  const stop = new AbortController();
  const running: Promise<unknown>[] = [];
  return {
    configs,
    token,
    clusters,
    dns,
    startTraffic(proxyUrl, options = {}) {
      const rate = options.ratePerSecond ?? 20;
      for (const { load } of Object.values(SERVICES)) {
        const perSecond = rate * load.share;
        running.push(
          runLoad({
            url: `${proxyUrl}${load.path}`,
            method: load.method,
            bodyBytes: load.bodyBytes,
            ratePerSecond: perSecond,
            durationMs: TRAFFIC_LIMIT_MS,
            maxRequests: Math.ceil((perSecond * TRAFFIC_LIMIT_MS) / 1000),
            timeoutMs: 15_000,
            keepSamples: false,
            stop: stop.signal,
          }).catch((): LoadReport | null => null),
        );
      }
      const scenes = { dns, clusters, operate: options.operate ?? null, stop: stop.signal };
      running.push(playScenes(scenes, options.sceneEveryMs ?? 60_000, Date.now() + TRAFFIC_LIMIT_MS));
    },
    stopTraffic() {
      stop.abort();
    },
    async close() {
      stop.abort();
      await Promise.all([...clusters.values()].map((c) => c.close()));
      await Promise.allSettled(running);
      await dns.close();
      await redis?.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
