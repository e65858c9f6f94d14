import { LabCluster, LabDnsServer } from '@podgate/lab';
import type { PodgateConfig } from '@podgate/protocol';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from './config/index.js';

export interface Demo {
  config: PodgateConfig;
  cluster: LabCluster;
  dns: LabDnsServer;
  close(): Promise<void>;
}

export const DEMO_DNS_NAME = 'image-lobby.demo.svc.cluster.local';

/**
 * `podgate` with no config: the lab's DNS server and 4 pods on loopback, and a config for them —
 * the seed's setup in miniature, so a newcomer sees real requests balanced with one command.
 */
export async function startDemo(listenPort = 8080): Promise<Demo> {
  const dns = await LabDnsServer.start({ host: '127.0.0.1', port: 0 });
  const cluster = await LabCluster.start({ dns, dnsName: DEMO_DNS_NAME, replicas: 4, ttl: 5, port: 18080, subnet: 77 });
  const config = resolveConfig({
    listen: `127.0.0.1:${listenPort}`,
    dns: { nameservers: [dns.nameserver], timeout: '500ms', attempts: 2 },
    log: { level: 'info', access: true },
    workers: 1,
    stateDir: join(tmpdir(), `podgate-demo-${process.getuid?.() ?? 0}`),
    services: {
      'image-lobby': { dnsName: DEMO_DNS_NAME, port: 18080, routes: [{ pathPrefix: '/' }] },
    },
  });
  return {
    config,
    cluster,
    dns,
    async close() {
      await cluster.close();
      await dns.close();
    },
  };
}
