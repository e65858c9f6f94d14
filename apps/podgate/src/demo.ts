import { LabCluster, LabDnsServer, LabRedis, redisServerPath, runLoad, type LoadReport } from '@podgate/lab';
import type { PodgateConfig } from '@podgate/protocol';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '@podgate/config';

export interface Demo {
  /** One config per podgate instance: one, or a fleet's (`--fleet N`). */
  configs: PodgateConfig[];
  /** A fleet's operator token, the same on every instance (a lone instance generates its own). */
  token: string | null;
  cluster: LabCluster;
  dns: LabDnsServer;
  /**
   * Background traffic through podgate and a rolling update every `rolloutEveryMs`, cycling the
   * ways a pod can die, so the dashboard has something to show. Bounded: it stops by itself after
   * an hour, and at close().
   */
  startTraffic(proxyUrl: string, options?: { ratePerSecond?: number; rolloutEveryMs?: number }): void;
  close(): Promise<void>;
}

// The demo's background load ends on its own after this long (and this many requests).
const TRAFFIC_LIMIT_MS = 60 * 60_000;
const ROLLOUT_MODES = ['graceful', 'refuse', 'blackhole'] as const;

export const DEMO_DNS_NAME = 'image-lobby.demo.svc.cluster.local';

/**
 * `podgate` with no config: the lab's DNS server and 4 pods on loopback, and a config for them —
 * the seed's setup in miniature, so a newcomer sees real requests balanced with one command.
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
  const cluster = await LabCluster.start({ dns, dnsName: DEMO_DNS_NAME, replicas: 4, ttl: 5, port: 18080, subnet: 77 });
  const redis = instances > 1 ? await LabRedis.start({ appendonly: true }) : null;
  const token = redis === null ? null : randomBytes(18).toString('base64url');
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
      services: {
        'image-lobby': { dnsName: DEMO_DNS_NAME, port: 18080, routes: [{ pathPrefix: '/' }] },
      },
      fleet: redis === null ? {} : { redis: redis.url, name: 'demo' },
    }),
  );
  const stop = new AbortController();
  const running: Promise<unknown>[] = [];
  return {
    configs,
    token,
    cluster,
    dns,
    startTraffic(proxyUrl, options = {}) {
      const rate = options.ratePerSecond ?? 20;
      running.push(
        runLoad({
          url: `${proxyUrl}/recognize`,
          bodyBytes: 4096,
          ratePerSecond: rate,
          durationMs: TRAFFIC_LIMIT_MS,
          maxRequests: Math.ceil((rate * TRAFFIC_LIMIT_MS) / 1000),
          timeoutMs: 15_000,
          keepSamples: false,
          stop: stop.signal,
        }).catch((): LoadReport | null => null),
      );
      running.push(rolloutLoop(cluster, options.rolloutEveryMs ?? 60_000, stop.signal));
    },
    async close() {
      stop.abort();
      await cluster.close();
      await Promise.allSettled(running);
      await dns.close();
      await redis?.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** A rolling update every `everyMs` until `stop` fires or the demo's hour is up. */
async function rolloutLoop(cluster: LabCluster, everyMs: number, stop: AbortSignal): Promise<void> {
  const end = Date.now() + TRAFFIC_LIMIT_MS;
  for (let i = 0; Date.now() < end; i++) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, everyMs);
      stop.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
    if (stop.aborted) return;
    try {
      await cluster.rollingUpdate({ mode: ROLLOUT_MODES[i % ROLLOUT_MODES.length] ?? 'graceful', graceMs: 2000, stepPauseMs: 1000 });
    } catch {
      return; // the cluster closed under it
    }
  }
}
