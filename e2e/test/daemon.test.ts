import { LabCluster, LabDnsServer } from '@podgate/lab';
import type { ServiceList, ServiceView } from '@podgate/protocol';
import { writeFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, Daemon, daemonConfig, writeConfig } from './daemon-harness.js';

const NAME = 'daemon.lab.svc.cluster.local';
const POD_PORT = 18440;
let dns: LabDnsServer;
let cluster: LabCluster;
const daemons: Daemon[] = [];

beforeAll(async () => {
  dns = await LabDnsServer.start();
  cluster = await LabCluster.start({ dns, dnsName: NAME, replicas: 3, ttl: 1, port: POD_PORT, subnet: 219 });
});
afterAll(async () => {
  await cluster.close();
  await dns.close();
});
afterEach(async () => {
  for (const d of daemons.splice(0)) {
    d.kill('SIGKILL');
    await d.exited;
  }
});

function start(listen: number, admin: number, workers = 1, extra = ''): { daemon: Daemon; dir: string; path: string } {
  const { dir, path } = writeConfig('');
  writeFileSync(path, daemonConfig({ dir, listen, admin, nameserver: dns.nameserver, dnsName: NAME, podPort: POD_PORT, workers, extra }));
  const daemon = Daemon.start(path);
  daemons.push(daemon);
  return { daemon, dir, path };
}

async function services(admin: number): Promise<ServiceView[]> {
  return ((await api(admin, 'GET', '/services')).json as ServiceList).services;
}

describe('the daemon', () => {
  it('keeps every acknowledged change across kill -9 while operators change things in a loop', async () => {
    const { daemon, path } = start(18441, 18442);
    await daemon.waitFor('podgate is serving');
    await daemon.waitFor(/peer added/);
    const addresses = cluster.pods.map((p) => p.address);
    const acknowledged = new Map<string, 'drain' | 'restore'>();
    // The one change in flight when the kill came may or may not have been made; nothing else may differ.
    let inFlight: { address: string; action: 'drain' | 'restore' } | null = null;
    const addedServices = new Set<string>();
    let stop = false;
    const loop = (async () => {
      for (let i = 0; i < 400 && !stop; i++) {
        const address = addresses[i % addresses.length] as string;
        const action = i % 2 === 0 ? 'drain' : 'restore';
        try {
          inFlight = { address, action };
          const r = await api(18442, 'POST', `/services/svc/peers/${encodeURIComponent(address)}/${action}`);
          inFlight = null;
          if (r.status === 200) acknowledged.set(address, action);
          if (i % 10 === 0) {
            const name = `added-${i}`;
            const a = await api(18442, 'POST', '/services', { name, dnsName: NAME, port: POD_PORT, routes: [{ pathPrefix: `/${name}` }] });
            if (a.status === 201) addedServices.add(name);
          }
        } catch {
          return; // the daemon was killed mid-request: that change was not acknowledged
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 700));
    daemon.kill('SIGKILL');
    stop = true;
    await loop;
    await daemon.exited;
    expect(acknowledged.size).toBeGreaterThan(0);
    const again = Daemon.start(path);
    daemons.push(again);
    await again.waitFor('podgate is serving');
    await new Promise((r) => setTimeout(r, 1500));
    const list = await services(18442);
    for (const name of addedServices) expect(list.map((s) => s.name)).toContain(name);
    const svc = list.find((s) => s.name === 'svc');
    const pending = inFlight as { address: string; action: 'drain' | 'restore' } | null;
    for (const [address, action] of acknowledged) {
      const hold = svc?.peers.find((p) => p.address === address)?.hold ?? null;
      const allowed = [action === 'drain' ? 'drain' : null];
      if (pending?.address === address) allowed.push(pending.action === 'drain' ? 'drain' : null);
      expect(allowed, `${address}: ${String(hold)}`).toContain(hold);
    }
  });

  it('reloads its config on SIGHUP without dropping connections, and refuses a bad file', async () => {
    const { daemon, path, dir } = start(18443, 18444);
    await daemon.waitFor('podgate is serving');
    await daemon.waitFor(/peer added/);
    const good =
      daemonConfig({ dir, listen: 18443, admin: 18444, nameserver: dns.nameserver, dnsName: NAME, podPort: POD_PORT }) +
      `\n  second:\n    dnsName: ${NAME}\n    port: ${POD_PORT}\n    routes: [{ pathPrefix: /second }]\n`;
    writeFileSync(path, good);
    const keep = await request('http://127.0.0.1:18443/slow/600');
    const slow = request('http://127.0.0.1:18443/slow/600');
    daemon.kill('SIGHUP');
    await daemon.waitFor('config reloaded');
    expect((await slow).statusCode).toBe(200);
    expect(keep.statusCode).toBe(200);
    await keep.body.dump();
    expect((await services(18444)).map((s) => s.name)).toEqual(['svc', 'second']);
    writeFileSync(path, good.replace(`port: ${POD_PORT}\n    routes`, 'port: 70000\n    routes'));
    daemon.kill('SIGHUP');
    await daemon.waitFor('config reload refused');
    expect(daemon.output).toContain('services.second.port: must be 1-65535');
    expect((await services(18444)).map((s) => s.name)).toEqual(['svc', 'second']);
    const res = await request('http://127.0.0.1:18443/recognize', { method: 'POST', body: 'x' });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('on SIGTERM stops accepting, finishes in-flight requests, then exits 0', async () => {
    const { daemon } = start(18445, 18446);
    await daemon.waitFor(/peer added/);
    const slow = request('http://127.0.0.1:18445/slow/1000');
    await new Promise((r) => setTimeout(r, 200));
    daemon.kill('SIGTERM');
    await daemon.waitFor('stopping');
    await expect(request('http://127.0.0.1:18445/echo')).rejects.toThrow();
    const res = await slow;
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
  });
});
