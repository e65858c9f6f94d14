import { Podgate, resolveConfig } from '@podgate/podgate';
import { LabCluster, LabDnsServer } from '@podgate/lab';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NAME = 'workers.lab.svc.cluster.local';
const POD_PORT = 18450;
let dns: LabDnsServer;
let cluster: LabCluster;
let podgate: Podgate;

beforeAll(async () => {
  dns = await LabDnsServer.start();
  cluster = await LabCluster.start({ dns, dnsName: NAME, replicas: 4, ttl: 1, port: POD_PORT, subnet: 221 });
  podgate = await Podgate.start(
    resolveConfig({
      listen: '127.0.0.1:0',
      workers: 2,
      stateDir: mkdtempSync(join(tmpdir(), 'podgate-workers-')),
      admin: { listen: '127.0.0.1:0' },
      dns: { nameservers: [dns.nameserver], timeout: '300ms', attempts: 1, minRefresh: '200ms', maxRefresh: '2s' },
      log: { level: 'silent', access: false },
      services: { svc: { dnsName: NAME, port: POD_PORT } },
    }),
    { logger: pino({ level: 'silent' }) },
  );
  const end = Date.now() + 5000;
  while ((await podgate.inspectWorkers()).some((w) => (w.services[0]?.peers.length ?? 0) < 4)) {
    if (Date.now() > end) throw new Error('workers never saw 4 peers');
    await new Promise((r) => setTimeout(r, 50));
  }
}, 30_000);

afterAll(async () => {
  await podgate.close(500);
  await cluster.close();
  await dns.close();
});

describe('two worker processes', () => {
  it('serve the shared port, both of them', async () => {
    for (let i = 0; i < 40; i++) {
      const res = await request(`http://127.0.0.1:${podgate.port}/recognize`, { method: 'POST', body: 'x', reset: true });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    await new Promise((r) => setTimeout(r, 1200));
    const stats = podgate.control.workerStats();
    expect(stats).toHaveLength(2);
    for (const w of stats) expect(w.services[0]?.requests ?? 0).toBeGreaterThan(0);
    expect(podgate.control.getService('svc')?.requests).toBe(40);
  });

  it('spread an ejection seen by one worker to the other within 50 ms', async () => {
    const victim = cluster.pods[0];
    if (victim === undefined) throw new Error('no pod');
    let ejectedAt = 0;
    const off = podgate.control.subscribe((c) => {
      if (c.kind === 'event' && c.event.type === 'peer_ejected' && c.event.address === victim.address) ejectedAt = Date.now();
    });
    await victim.terminate('refuse');
    for (let i = 0; i < 8 && ejectedAt === 0; i++) {
      const res = await request(`http://127.0.0.1:${podgate.port}/recognize`, { method: 'POST', body: 'x', reset: true });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    off();
    expect(ejectedAt).toBeGreaterThan(0);
    let spread = -1;
    while (Date.now() - ejectedAt < 1000) {
      const workers = await podgate.inspectWorkers();
      const states = workers.map((w) => w.services[0]?.peers.find((p) => p.address === victim.address)?.state);
      if (states.every((s) => s === 'ejected')) {
        spread = Date.now() - ejectedAt;
        break;
      }
    }
    expect(spread).toBeGreaterThanOrEqual(0);
    expect(spread).toBeLessThanOrEqual(50);
  });
});
