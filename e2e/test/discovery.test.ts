import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Podgate, resolveConfig } from '@podgate/podgate';
import { LabCluster, LabDnsServer } from '@podgate/lab';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const NAME = 'disco.lab.svc.cluster.local';
let dns: LabDnsServer;
let cluster: LabCluster;
let podgate: Podgate;

beforeEach(async () => {
  dns = await LabDnsServer.start();
  cluster = await LabCluster.start({ dns, dnsName: NAME, replicas: 2, ttl: 1, port: 18430 });
  podgate = await Podgate.start(
    resolveConfig({
      listen: '127.0.0.1:0',
      dns: { nameservers: [dns.nameserver], timeout: '200ms', attempts: 1, minRefresh: '200ms', maxRefresh: '2s', emptyGrace: '1s', jitter: 0 },
      log: { level: 'silent' },
      workers: 1,
      stateDir: mkdtempSync(join(tmpdir(), 'podgate-e2e-')),
      admin: { listen: '127.0.0.1:0' },
      services: { disco: { dnsName: NAME, port: 18430 } },
    }),
  );
  await until(() => peers().length === 2, 3000);
});

afterEach(async () => {
  await podgate.close(100);
  await cluster.close();
  await dns.close();
});

function peers(): string[] {
  return (podgate.proxy?.service('disco')?.table.list() ?? []).filter((p) => p.state === 'active').map((p) => p.address);
}

async function until(check: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

async function post(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(`http://127.0.0.1:${podgate.port}/recognize`, { method: 'POST', body: 'img' });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('podgate follows DNS', () => {
  it('picks up new pods within the record TTL and balances over them', async () => {
    await cluster.scale(4);
    const waited = await until(() => peers().length === 4, 3000);
    expect(waited).toBeLessThan(1500);
    const seen = new Set<unknown>();
    for (let i = 0; i < 8; i++) seen.add((await post()).body.pod);
    expect(seen.size).toBe(4);
  });

  it('keeps serving the last known pods while the nameserver times out, and says so', async () => {
    dns.setSilent(true);
    await until(() => podgate.control.getService('disco')?.dns.lastError?.code === 'ETIMEOUT', 3000);
    expect(peers()).toHaveLength(2);
    expect((await post()).status).toBe(200);
  });

  it('keeps the pods through NXDOMAIN for the grace period, then answers 503 naming the cause', async () => {
    dns.removeName(NAME);
    await new Promise((r) => setTimeout(r, 500));
    expect((await post()).status).toBe(200);
    await until(() => peers().length === 0, 3000);
    const res = await post();
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'PODGATE_NO_PEER', service: 'disco' });
    expect(String(res.body.message)).toContain(`NXDOMAIN from ${dns.nameserver}: ${NAME} does not exist`);
  });

  it('lets one service resolve while another service fails DNS', async () => {
    await podgate.close(100);
    podgate = await Podgate.start(
      resolveConfig({
        listen: '127.0.0.1:0',
        dns: { nameservers: [dns.nameserver], timeout: '200ms', attempts: 1, minRefresh: '200ms', maxRefresh: '2s', jitter: 0 },
        log: { level: 'silent' },
        workers: 1,
        stateDir: mkdtempSync(join(tmpdir(), 'podgate-e2e-')),
        admin: { listen: '127.0.0.1:0' },
        services: {
          broken: { dnsName: 'missing.lab.svc.cluster.local', port: 18430, routes: [{ pathPrefix: '/broken' }] },
          disco: { dnsName: NAME, port: 18430 },
        },
      }),
    );
    await until(() => peers().length === 2, 3000);
    expect((await post()).status).toBe(200);
  });
});
