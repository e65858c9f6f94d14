import { LabCluster, LabDnsServer, LabRedis, runLoad } from '@podgate/lab';
import type { PeerAction } from '@podgate/protocol';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { api, DNS_NAME, peerOf, POD_PORT, quantile, SERVICE, serviceOf, startInstance, until, type FleetInstance } from './fleet-harness.js';

// Issue 14: three podgate instances act as one through a real redis-server (Debian's), in front
// of the lab's pods.

let dns: LabDnsServer;
let cluster: LabCluster;
let redis: LabRedis;
let fleet: FleetInstance[] = [];

beforeEach(async () => {
  dns = await LabDnsServer.start();
  cluster = await LabCluster.start({ dns, dnsName: DNS_NAME, replicas: 4, ttl: 1, port: POD_PORT, subnet: 231 });
  redis = await LabRedis.start({ appendonly: true });
  fleet = [];
  for (let i = 0; i < 3; i++) fleet.push(await startInstance(dns, redis.url));
  await until(() => fleet.every((f) => f.podgate.control.fleet().state === 'ok' && (serviceOf(f, SERVICE)?.peers.length ?? 0) === 4), 10_000, 'fleet ready');
});

afterEach(async () => {
  await Promise.all(fleet.map((f) => f.podgate.close(100)));
  await cluster.close();
  await dns.close();
  await redis.close();
});

const holdOf = (f: FleetInstance, address: string): string | null => peerOf(f, address)?.hold ?? null;
const addresses = (): string[] => cluster.pods.map((p) => `${p.host}:${POD_PORT}`);

async function served(instance: FleetInstance, count: number): Promise<{ pods: Map<string, number>; errors: number }> {
  const pods = new Map<string, number>();
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const res = await request(`${instance.url}/recognize`, { method: 'POST', body: 'img' });
    const body = (await res.body.json()) as { pod?: string; host?: string };
    if (res.statusCode !== 200) errors++;
    const pod = String(body.host ?? body.pod);
    pods.set(pod, (pods.get(pod) ?? 0) + 1);
  }
  return { pods, errors };
}

describe('a fleet of three instances', () => {
  it('a drain through one instance stops traffic to that pod through the others within 1 s', async () => {
    const [a, b, c] = fleet as [FleetInstance, FleetInstance, FleetInstance];
    const times: number[] = [];
    for (let round = 0; round < 8; round++) {
      const address = addresses()[round % 4] as string;
      const through = fleet[round % 3] as FleetInstance;
      const started = Date.now();
      expect((await api(through, 'POST', `/services/${SERVICE}/peers/${address}/drain`)).status).toBe(200);
      await until(() => fleet.every((f) => holdOf(f, address) === 'drain'), 1000, `drain of ${address} everywhere`);
      times.push(Date.now() - started);
      // The held peer gets nothing more through any instance.
      const before = fleet.map((f) => peerOf(f, address)?.requests ?? 0);
      for (const f of [a, b, c]) expect((await served(f, 12)).errors).toBe(0);
      expect(fleet.map((f) => peerOf(f, address)?.requests ?? 0)).toEqual(before);
      expect(peerOf(b, address)?.heldBy).toMatchObject({ actor: 'alice', instance: through.id });
      expect((await api(fleet[(round + 1) % 3] as FleetInstance, 'POST', `/services/${SERVICE}/peers/${address}/restore`)).status).toBe(200);
      await until(() => fleet.every((f) => holdOf(f, address) === null), 1000, `restore of ${address} everywhere`);
    }
    console.log(`drain propagation to the other two instances (8 drains): p50 ${quantile(times, 0.5)} ms, max ${Math.max(...times)} ms`);
    expect(Math.max(...times)).toBeLessThan(1000);
  });

  it("an ejection one instance's traffic finds is applied by the others before they send to that pod again", async () => {
    const [a, b, c] = fleet as [FleetInstance, FleetInstance, FleetInstance];
    const victim = cluster.pods[0];
    if (victim === undefined) throw new Error('no pod');
    const address = `${victim.host}:${POD_PORT}`;
    const before = [b, c].map((f) => peerOf(f, address)?.requests ?? 0);
    await victim.terminate('refuse');
    // Only A's clients meet the dead pod; A retries them elsewhere.
    const throughA = await served(a, 8);
    expect(throughA.errors).toBe(0);
    await until(() => peerOf(a, address)?.state === 'ejected', 2000, 'A ejected the pod');
    const waited = await until(() => [b, c].every((f) => peerOf(f, address)?.state === 'ejected'), 1000, 'B and C apply the hint');
    console.log(`ejection hint from A applied by B and C ${waited} ms after A ejected the pod`);
    for (const f of [b, c]) {
      expect(peerOf(f, address)?.ejectedBy).toBe(a.id);
      expect((await served(f, 20)).errors).toBe(0);
    }
    // Neither B nor C sent a single try to the dead pod.
    expect([b, c].map((f) => peerOf(f, address)?.requests ?? 0)).toEqual(before);
  });

  it('200 random operator actions over the 3 instances, Redis killed (-9) and restarted twice: all agree and every acknowledged action stands', async () => {
    const actions: PeerAction[] = ['drain', 'eject', 'restore'];
    const expected = new Map<string, string | null>();
    const services = new Map<string, boolean>();
    let acknowledged = 0;
    let refused = 0;
    let seed = 20261206;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 200; i++) {
      if (i === 60 || i === 140) await redis.kill9();
      if (i === 80 || i === 160) {
        await redis.restart();
        await until(() => fleet.every((f) => f.podgate.control.fleet().state === 'ok'), 10_000, 'fleet back');
      }
      const through = fleet[random(3)] as FleetInstance;
      if (random(10) === 0) {
        // Now and then a service added or removed through the API.
        const name = `extra-${random(3)}`;
        const add = services.get(name) !== true;
        const r = add
          ? await api(through, 'POST', '/services', { name, dnsName: DNS_NAME, port: POD_PORT, routes: [{ host: `${name}.test`, pathPrefix: '/' }] })
          : await api(through, 'DELETE', `/services/${name}`);
        if (r.status === 201 || r.status === 204) {
          services.set(name, add);
          acknowledged++;
        } else {
          expect(r.status, JSON.stringify(r.body)).toBe(503);
          expect(r.body).toMatchObject({ error: 'PODGATE_FLEET_UNAVAILABLE' });
          refused++;
        }
        continue;
      }
      const address = addresses()[random(4)] as string;
      const action = actions[random(3)] as PeerAction;
      const r = await api(through, 'POST', `/services/${SERVICE}/peers/${address}/${action}`);
      if (r.status === 200) {
        expected.set(address, action === 'restore' ? null : action);
        acknowledged++;
      } else {
        expect(r.status, JSON.stringify(r.body)).toBe(503);
        expect(r.body).toMatchObject({ error: 'PODGATE_FLEET_UNAVAILABLE' });
        refused++;
      }
    }
    console.log(`random actions: ${acknowledged} acknowledged, ${refused} refused with 503 while Redis was down`);
    expect(refused).toBeGreaterThan(0);
    const versions = (): number[] => fleet.map((f) => f.podgate.control.fleet().version);
    await until(() => new Set(versions()).size === 1, 5000, 'the same version everywhere');
    for (const f of fleet) {
      for (const [address, hold] of expected) expect(holdOf(f, address), `${f.id} ${address}`).toBe(hold);
      for (const [name, present] of services) expect(serviceOf(f, name) !== null, `${f.id} ${name}`).toBe(present);
    }
  });

  it('two instances acting on the same peer at once end in the same state everywhere: the last acknowledged write', async () => {
    const [a, b] = fleet as [FleetInstance, FleetInstance, FleetInstance];
    for (let round = 0; round < 20; round++) {
      const address = addresses()[round % 4] as string;
      const [ra, rb] = await Promise.all([
        api(a, 'POST', `/services/${SERVICE}/peers/${address}/drain`),
        api(b, 'POST', `/services/${SERVICE}/peers/${address}/eject`),
      ]);
      // One may lose to the other while it is being written (409: the later change stands).
      expect([ra.status, rb.status].every((s) => s === 200 || s === 409)).toBe(true);
      await until(() => new Set(fleet.map((f) => holdOf(f, address))).size === 1 && holdOf(a, address) !== null, 2000, 'agreement').catch((err: Error) => {
        throw new Error(
          `${err.message}: round ${round}, answers ${ra.status} ${rb.status}, holds ${fleet.map((f) => holdOf(f, address)).join(' ')}, versions ${fleet.map((f) => f.podgate.control.fleet().version).join(' ')}`,
        );
      });
      const winner = holdOf(a, address);
      if (ra.status !== 200) expect(winner).toBe('eject');
      if (rb.status !== 200) expect(winner).toBe('drain');
      expect((await api(a, 'POST', `/services/${SERVICE}/peers/${address}/restore`)).status).toBe(200);
      await until(() => fleet.every((f) => holdOf(f, address) === null), 2000, 'restored');
    }
  });

  it('Redis killed during a rolling update: no client error, writes refused with 503 while it is down, all back once it returns', async () => {
    await redis.kill9();
    await until(() => fleet.every((f) => f.podgate.control.fleet().state === 'degraded'), 5000, 'degraded');
    const loads = fleet.map((f) => runLoad({ url: `${f.url}/recognize`, concurrency: 6, bodyBytes: 1024, durationMs: 9000, timeoutMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 500));
    const refused = await api(fleet[1] as FleetInstance, 'POST', `/services/${SERVICE}/peers/${addresses()[0]}/drain`);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'PODGATE_FLEET_UNAVAILABLE' });
    await cluster.rollingUpdate({ mode: 'graceful', maxSurge: 1, maxUnavailable: 0, dnsLagMs: 500, stepPauseMs: 300, graceMs: 2000 });
    const reports = await Promise.all(loads);
    for (const r of reports) {
      expect(r.total).toBeGreaterThan(100);
      expect(r.byError).toEqual({});
      expect(r.errors).toBe(0);
    }
    const status = await api(fleet[0] as FleetInstance, 'GET', '/fleet');
    expect(status.body).toMatchObject({ state: 'degraded', name: 'e2e' });
    await redis.restart();
    await until(() => fleet.every((f) => f.podgate.control.fleet().state === 'ok'), 10_000, 'recovered');
    const address = addresses()[0] as string;
    expect((await api(fleet[1] as FleetInstance, 'POST', `/services/${SERVICE}/peers/${address}/drain`)).status).toBe(200);
    await until(() => fleet.every((f) => holdOf(f, address) === 'drain'), 1000, 'drain after recovery');
    const events = (await api(fleet[2] as FleetInstance, 'GET', '/events?limit=1000')).body as { events: { type: string }[] };
    expect(events.events.map((e) => e.type)).toEqual(expect.arrayContaining(['fleet_degraded', 'fleet_recovered']));
  });

  it('instances started while Redis is down serve at once, and join when it comes up', async () => {
    await redis.kill9();
    const late = await startInstance(dns, redis.url);
    fleet.push(late);
    await until(() => (serviceOf(late, SERVICE)?.peers.length ?? 0) === 4, 5000, 'pods found');
    expect((await served(late, 20)).errors).toBe(0);
    expect(late.podgate.control.fleet().state).not.toBe('ok');
    expect((await api(late, 'POST', `/services/${SERVICE}/peers/${addresses()[1]}/eject`)).status).toBe(503);
    await redis.restart();
    await until(() => late.podgate.control.fleet().state === 'ok' && late.podgate.control.fleet().instances.length === 4, 10_000, 'joined');
  });

  it('every instance restarted on fresh machines (new state directories): the manual states and runtime services are back', async () => {
    const [a, b] = fleet as [FleetInstance, FleetInstance, FleetInstance];
    const address = addresses()[2] as string;
    expect(
      (await api(a, 'POST', '/services', { name: 'extra', dnsName: DNS_NAME, port: POD_PORT, routes: [{ host: 'extra.test', pathPrefix: '/' }] })).status,
    ).toBe(201);
    expect((await api(b, 'POST', `/services/${SERVICE}/peers/${address}/drain`)).status).toBe(200);
    await Promise.all(fleet.map((f) => f.podgate.close(100)));
    fleet = [];
    for (let i = 0; i < 3; i++) fleet.push(await startInstance(dns, redis.url));
    await until(() => fleet.every((f) => serviceOf(f, 'extra') !== null && holdOf(f, address) === 'drain'), 10_000, 'state back');
    expect(peerOf(fleet[0] as FleetInstance, address)?.heldBy?.actor).toBe('alice');
  });
});
