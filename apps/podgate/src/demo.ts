import { LabCluster, LabDnsServer, runLoad, type LoadReport } from '@podgate/lab';
import type { PodgateConfig } from '@podgate/protocol';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '@podgate/config';

export interface Demo {
  config: PodgateConfig;
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
export async function startDemo(listenPort = 8080): Promise<Demo> {
  const stateDir = await mkdtemp(join(tmpdir(), 'podgate-demo-'));
  const dns = await LabDnsServer.start({ host: '127.0.0.1', port: 0 });
  const cluster = await LabCluster.start({ dns, dnsName: DEMO_DNS_NAME, replicas: 4, ttl: 5, port: 18080, subnet: 77 });
  const config = resolveConfig({
    listen: `127.0.0.1:${listenPort}`,
    dns: { nameservers: [dns.nameserver], timeout: '500ms', attempts: 2 },
    // Access lines off: the background traffic would bury the demo's instructions.
    log: { level: 'info', access: false },
    workers: 1,
    // A fresh state directory each run: the demo always generates (and prints) a new token.
    stateDir,
    services: {
      'image-lobby': { dnsName: DEMO_DNS_NAME, port: 18080, routes: [{ pathPrefix: '/' }] },
    },
  });
  const stop = new AbortController();
  const running: Promise<unknown>[] = [];
  return {
    config,
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
