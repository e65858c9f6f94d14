import { LabCluster, LabDnsServer, LabPod } from '@podgate/lab';
import type { PodgateConfig, ServiceConfig } from '@podgate/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProxyServer } from '@podgate/proxy';
import { ControlError, ControlPlane, startInProcessDataPlane, StateStore } from '../src/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeRequest, proxyConfig, serviceConfig } from '@podgate/lab';

const NAME = 'cp.lab.svc.cluster.local';
const PORT = 18318;
const logger = pino({ level: 'silent' });
let dns: LabDnsServer;
let cluster: LabCluster;
let control: ControlPlane;
let planes: { proxy: ProxyServer; url: string }[];

function config(): PodgateConfig {
  // Short ejections, so a return (after its probe) happens within a test.
  const c = proxyConfig([serviceConfig('svc', PORT, { dnsName: NAME, ejection: { baseMs: 300, maxMs: 1000 } })]);
  c.dns = { ...c.dns, nameservers: [dns.nameserver], minRefreshMs: 200, maxRefreshMs: 1000 };
  return c;
}

/** The config file's rules stand-in for API input: a name, a dnsName and a port. */
function parseService(input: unknown): ServiceConfig {
  const i = input as { name: string; dnsName: string; port: number; routes?: ServiceConfig['routes'] };
  if (typeof i.port !== 'number' || i.port < 1 || i.port > 65535) throw new ControlError('PODGATE_INVALID', 'body.port: must be 1-65535', 'body.port');
  return serviceConfig(i.name, i.port, { dnsName: i.dnsName, ...(i.routes === undefined ? {} : { routes: i.routes }) });
}

async function until(check: () => boolean, ms = 3000): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - start;
}

function stateIn(proxy: ProxyServer, address: string): string | undefined {
  return proxy.inspect().services[0]?.peers.find((p) => p.address === address)?.state;
}

beforeEach(async () => {
  dns = await LabDnsServer.start();
  cluster = await LabCluster.start({ dns, dnsName: NAME, replicas: 3, ttl: 1, port: PORT, subnet: 218 });
  control = await ControlPlane.start({ config: config(), parseService, logger });
  planes = [];
  for (const worker of [1, 2]) {
    const { proxy } = startInProcessDataPlane(control, config(), logger, worker);
    const { port } = await proxy.listen();
    planes.push({ proxy, url: `http://127.0.0.1:${port}` });
  }
  await until(() => planes.every((p) => (p.proxy.service('svc')?.table.size ?? 0) === 3));
});

afterEach(async () => {
  for (const p of planes) await p.proxy.close(100);
  await control.close();
  await cluster.close();
  await dns.close();
});

describe('control plane with two data planes', () => {
  it('spreads an ejection seen by one data plane to the other within 50 ms', async () => {
    const victim = cluster.pods[0];
    if (victim === undefined) throw new Error('no pod');
    await victim.terminate('refuse');
    const [a, b] = planes as [(typeof planes)[0], (typeof planes)[0]];
    for (let i = 0; i < 3; i++) expect((await nodeRequest(`${a.url}/recognize`, { method: 'POST', body: 'x' })).status).toBe(200);
    expect(stateIn(a.proxy, victim.address)).toBe('ejected');
    const spread = await until(() => stateIn(b.proxy, victim.address) === 'ejected', 50);
    expect(spread).toBeLessThanOrEqual(50);
    const view = control.getService('svc')?.peers.find((p) => p.address === victim.address);
    expect(view).toMatchObject({ state: 'ejected', reason: 'connect_refused' });
    expect(control.events(0, 100).events.some((e) => e.type === 'peer_ejected' && e.address === victim.address)).toBe(true);
  });

  it('drains a peer in every data plane on an operator action, records who did it, and restores it', async () => {
    const target = cluster.pods[1]?.address as string;
    const view = await control.peerAction('svc', target, 'drain', 'alice');
    expect(['draining', 'drained']).toContain(view.state);
    await until(() => planes.every((p) => stateIn(p.proxy, target) === 'drained'), 200);
    const before = cluster.pods[1]?.served ?? 0;
    for (let i = 0; i < 6; i++) await nodeRequest(`${planes[i % 2]?.url}/recognize`, { method: 'POST', body: 'x' });
    expect(cluster.pods[1]?.served).toBe(before);
    const action = control.events(0, 100).events.find((e) => e.type === 'operator_action');
    expect(action).toMatchObject({ actor: 'alice', address: target, detail: `drain ${target}` });
    await control.peerAction('svc', target, 'restore', 'alice');
    await until(() => planes.every((p) => stateIn(p.proxy, target) === 'active'), 200);
  });

  it('reports a drained peer only once the data planes say nothing is in flight on it', async () => {
    const pod = cluster.pods[0] as LabPod;
    const [a] = planes as [(typeof planes)[0]];
    // RR: the first request of a fresh table goes to the first pod; it stays in flight 600 ms.
    const slow = nodeRequest(`${a.url}/slow/600`, {});
    await until(() => (a.proxy.service('svc')?.table.get(pod.address)?.inFlight ?? 0) === 1, 1000);
    // The primary has not heard of it yet (counts come every 500 ms), but the drain waits for word.
    const view = await control.peerAction('svc', pod.address, 'drain', 'alice');
    expect(view.state).toBe('draining');
    await until(() => control.getService('svc')?.peers.find((p) => p.address === pod.address)?.inFlight === 1, 200);
    expect(control.getService('svc')?.peers.find((p) => p.address === pod.address)?.state).toBe('draining');
    expect((await slow).status).toBe(200);
    await until(() => control.getService('svc')?.peers.find((p) => p.address === pod.address)?.state === 'drained', 1000);
  });

  it('keeps a drain across DNS refreshes', async () => {
    const target = cluster.pods[2]?.address as string;
    await control.peerAction('svc', target, 'drain', 'ops');
    await cluster.scale(4);
    await until(() => planes.every((p) => (p.proxy.service('svc')?.table.size ?? 0) === 4));
    expect(planes.map((p) => stateIn(p.proxy, target))).toEqual(['drained', 'drained']);
  });

  it('answers 404 for unknown services and peers, 409 for config services and route conflicts', async () => {
    await expect(control.peerAction('nope', '127.0.0.1:1', 'drain', 'ops')).rejects.toMatchObject({ status: 404 });
    await expect(control.peerAction('svc', '127.0.0.1:1', 'drain', 'ops')).rejects.toMatchObject({ status: 404 });
    await expect(control.removeService('svc', 'ops')).rejects.toMatchObject({ status: 409, code: 'PODGATE_CONFLICT' });
    await expect(control.addService({ name: 'other', dnsName: NAME, port: PORT }, 'ops')).rejects.toMatchObject({ status: 409, field: 'routes' });
    await expect(control.addService({ name: 'bad', dnsName: NAME, port: 0 }, 'ops')).rejects.toMatchObject({ status: 400, field: 'body.port' });
  });

  it('adds a service that resolves at once in every data plane, and removes it', async () => {
    const view = await control.addService({ name: 'extra', dnsName: NAME, port: PORT, routes: [{ pathPrefix: '/extra' }] }, 'bob');
    expect(view).toMatchObject({ name: 'extra', source: 'api' });
    await until(() => planes.every((p) => (p.proxy.service('extra')?.table.size ?? 0) === 4 || (p.proxy.service('extra')?.table.size ?? 0) === 3), 2000);
    expect((await nodeRequest(`${planes[0]?.url}/extra/recognize`, { method: 'POST', body: 'x' })).status).toBe(404);
    await control.removeService('extra', 'bob');
    await until(() => planes.every((p) => p.proxy.service('extra') === undefined), 500);
    expect(control.events(0, 100).events.map((e) => e.type)).toEqual(expect.arrayContaining(['service_added', 'service_removed']));
  });

  it('merges counters from both data planes into the service view', async () => {
    for (const p of planes) for (let i = 0; i < 5; i++) await nodeRequest(`${p.url}/recognize`, { method: 'POST', body: 'x' });
    await until(() => (control.getService('svc')?.requests ?? 0) === 10, 2000);
    const view = control.getService('svc');
    expect(view?.responses['200']).toBe(10);
    expect(view?.peers.reduce((n, p) => n + p.requests, 0)).toBe(10);
    expect(control.ready()).toBe(true);
  });
});

describe('control plane persistence', () => {
  it('makes concurrent operator changes durable, each one, and restores them on restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podgate-cp-'));
    const store = await StateStore.open(dir);
    const first = await ControlPlane.start({ config: config(), parseService, logger, store });
    await until(() => first.getService('svc')?.peers.length === 3);
    const [a, b, c] = cluster.pods.map((p) => p.address) as [string, string, string];
    await Promise.all([
      first.peerAction('svc', a, 'drain', 'alice'),
      first.peerAction('svc', b, 'eject', 'bob'),
      first.addService({ name: 'kept', dnsName: NAME, port: PORT, routes: [{ pathPrefix: '/kept' }] }, 'carol'),
      first.peerAction('svc', c, 'drain', 'dave'),
    ]);
    await first.peerAction('svc', c, 'restore', 'dave');
    await first.close();
    const second = await ControlPlane.start({ config: config(), parseService, logger, store: await StateStore.open(dir) });
    try {
      await until(() => second.getService('svc')?.peers.length === 3);
      const holds = Object.fromEntries((second.getService('svc')?.peers ?? []).map((p) => [p.address, p.hold]));
      expect(holds).toEqual({ [a]: 'drain', [b]: 'eject', [c]: null });
      expect(second.getService('kept')).toMatchObject({ source: 'api' });
    } finally {
      await second.close();
    }
  });
});

describe('probe only the ejected', () => {
  it('keeps a dead pod out past its ejection time until a return probe passes', async () => {
    const victim = cluster.pods[0];
    if (victim === undefined) throw new Error('no pod');
    const address = victim.address;
    const view = () => control.getService('svc')?.peers.find((p) => p.address === address);
    await victim.terminate('refuse');
    await victim.close();
    expect((await nodeRequest(`${planes[0]?.url}/recognize`, { method: 'POST', body: 'x' })).status).toBe(200);
    await until(() => view()?.state === 'ejected', 500);
    // Ejection time (300 ms here) passes, but the pod still refuses: ejected again, for longer.
    await until(() => view()?.reason === 'probe_failed', 1500);
    expect(view()?.state).toBe('ejected');
    expect(planes.map((p) => stateIn(p.proxy, address))).toEqual(['ejected', 'ejected']);
    const back = await LabPod.start({ name: 'back', host: victim.host, port: PORT });
    try {
      await until(() => view()?.state === 'active', 2000);
      await until(() => planes.every((p) => stateIn(p.proxy, address) === 'active'), 200);
      const types = control
        .events(0, 500)
        .events.filter((e) => e.address === address)
        .map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['peer_ejected', 'peer_returned']));
    } finally {
      await back.close();
    }
  });
});
