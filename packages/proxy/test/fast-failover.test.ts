import { LabPod } from '@podgate/lab';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { BadPod } from './bad-pod.js';
import { slowProxyOver } from './fixtures.js';
import { nodeRequest, type ServiceOverrides } from '@podgate/lab';

const SUBNET = 223;
const PORT = 18323;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const proxyOver = (hosts: string[], overrides: ServiceOverrides) => slowProxyOver(PORT, hosts, overrides, cleanup);

async function pod(name: string, host: string): Promise<LabPod> {
  const p = await LabPod.start({ name, host, port: PORT });
  cleanup.push(() => p.close());
  return p;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = Date.now();
  const value = await fn();
  return { ms: Date.now() - t0, value };
}

describe('connect hedging', () => {
  it('moves a try whose connection is late to another peer, far inside the connect timeout', async () => {
    const dead = await pod('dead', `127.${SUBNET}.1.1`);
    await dead.terminate('blackhole');
    await pod('good', `127.${SUBNET}.1.2`);
    const s = await proxyOver([dead.host, `127.${SUBNET}.1.2`], {});
    const { ms, value } = await timed(() => nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' }));
    expect(value.status).toBe(200);
    expect(JSON.parse(value.body).pod).toBe('good');
    expect(ms).toBeLessThan(500);
    expect(s.service.counters.connectHedges).toBe(1);
    // The late connect made podgate probe the peer; the probe timed out: it is out.
    await new Promise((r) => setTimeout(r, 400));
    expect(s.peer(dead.host)).toMatchObject({ state: 'ejected', reason: 'stalled' });
  });
});

describe('rescue', () => {
  it('re-sends requests stalled on a pod that went silent, long before the response timeout', async () => {
    const a = await pod('a', `127.${SUBNET}.2.1`);
    const b = await pod('b', `127.${SUBNET}.2.2`);
    const s = await proxyOver([a.host, b.host], {});
    // Warm: keep-alive connections to both pods, and a p99 to measure stalls against.
    for (let i = 0; i < 20; i++) expect((await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'x' })).status).toBe(200);
    await a.terminate('blackhole');
    const { ms, value } = await timed(() =>
      Promise.all(
        Array.from({ length: 8 }, () =>
          request(`${s.url}/recognize`, { method: 'POST', body: 'img' }).then(async (r) => ({
            status: r.statusCode,
            body: (await r.body.json()) as { pod: string },
          })),
        ),
      ),
    );
    expect(value.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(value.map((r) => r.body.pod))).toEqual(new Set(['b']));
    expect(ms).toBeLessThan(1000);
    expect(s.service.counters.rescued).toBeGreaterThan(0);
    expect(s.peer(a.host)).toMatchObject({ state: 'ejected', reason: 'stalled' });
  });

  it('leaves a slow but live pod alone: its probe (OPTIONS *) is answered', async () => {
    const slow = await BadPod.start(`127.${SUBNET}.3.1`, PORT, 'busy');
    cleanup.push(() => slow.close());
    await pod('good', `127.${SUBNET}.3.2`);
    const s = await proxyOver([`127.${SUBNET}.3.1`, `127.${SUBNET}.3.2`], { timeouts: { responseHeaderMs: 1500 } });
    const res = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(200);
    expect(s.service.counters.rescued).toBe(0);
    // Probed again while it stays quiet, each time after twice the wait: 150, 300, 600, 1200 ms.
    expect(s.service.counters.probes).toEqual({ ok: 4, failed: 0 });
    expect(s.peer(`127.${SUBNET}.3.1`)?.state).toBe('active');
  });

  it('asks again when a pod that passed its probe still does not answer, and rescues once it is gone', async () => {
    const a = await LabPod.start({ name: 'a', host: `127.${SUBNET}.3.3`, port: PORT, delayMs: 400 });
    cleanup.push(() => a.close());
    const b = await pod('b', `127.${SUBNET}.3.4`);
    const s = await proxyOver([a.host, b.host], {});
    // The stall mark (150 ms) passes, its probe passes: a is slow, not gone. Then it goes.
    const gone = new Promise((resolve) => setTimeout(resolve, 250)).then(() => a.terminate('blackhole'));
    const { ms, value } = await timed(() => nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' }));
    await gone;
    expect(value.status).toBe(200);
    expect(JSON.parse(value.body).pod).toBe('b');
    expect(ms).toBeLessThan(1000);
    expect(s.service.counters.probes.ok).toBeGreaterThanOrEqual(1);
    expect(s.service.counters.probes.failed).toBe(1);
    expect(s.service.counters.rescued).toBe(1);
  });
});

describe('hung pods (the kernel still accepts, the process answers nothing)', () => {
  const HEALTH = { returnProbe: { path: '/healthz', timeoutMs: 300 } } satisfies ServiceOverrides;

  // Issue 12: without a health path, a frozen pod passed its connect probe and its requests waited
  // for the response timeout (20.8 s worst case in a rollout of freezing pods).
  it('without configuration: OPTIONS * goes unanswered, it is ejected at once and its requests re-sent', async () => {
    const hung = await BadPod.start(`127.${SUBNET}.7.1`, PORT, 'silent');
    cleanup.push(() => hung.close());
    await pod('good', `127.${SUBNET}.7.2`);
    const s = await proxyOver([`127.${SUBNET}.7.1`, `127.${SUBNET}.7.2`], {});
    const { ms, value } = await timed(() => Promise.all([1, 2, 3, 4].map(() => nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' }))));
    expect(value.map((r) => [r.status, JSON.parse(r.body).pod])).toEqual(Array(4).fill([200, 'good']));
    // Stall mark 150 ms, then a connect and OPTIONS * unanswered for 100 ms.
    expect(ms).toBeLessThan(600);
    expect(s.service.counters.rescued).toBeGreaterThanOrEqual(1);
    expect(s.service.counters.probes.failed).toBe(1);
    expect(s.peer(`127.${SUBNET}.7.1`)).toMatchObject({ state: 'ejected', reason: 'stalled' });
    expect(s.peer(`127.${SUBNET}.7.1`)?.lastFailure).toBeNull();
    // Known dead: the next requests never go there.
    const before = hung.requests;
    const after = await Promise.all([1, 2, 3, 4].map(() => nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' })));
    expect(after.map((r) => JSON.parse(r.body).pod)).toEqual(Array(4).fill('good'));
    expect(hung.requests).toBe(before);
  });

  it('rescues the requests of a pod that hangs after DNS dropped it (terminating)', async () => {
    const hung = await BadPod.start(`127.${SUBNET}.7.3`, PORT, 'silent');
    cleanup.push(() => hung.close());
    const good = await pod('good', `127.${SUBNET}.7.4`);
    // Long stall marks: only the probe of a terminating peer can find it in time.
    const s = await proxyOver([`127.${SUBNET}.7.3`, good.host], { rescue: { minStallMs: 5000 } });
    const pending = timed(() => Promise.all([1, 2].map(() => nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' }))));
    await new Promise((resolve) => setTimeout(resolve, 100));
    s.proxy.setAddresses('svc', [good.host]);
    const { ms, value } = await pending;
    expect(value.map((r) => [r.status, JSON.parse(r.body).pod])).toEqual([
      [200, 'good'],
      [200, 'good'],
    ]);
    expect(ms).toBeLessThan(1000);
    expect(s.service.counters.rescued).toBe(1);
  });

  it('with a health path: its health GET goes unanswered, it is ejected and its requests re-sent', async () => {
    const hung = await BadPod.start(`127.${SUBNET}.6.1`, PORT, 'silent');
    cleanup.push(() => hung.close());
    await pod('good', `127.${SUBNET}.6.2`);
    const s = await proxyOver([`127.${SUBNET}.6.1`, `127.${SUBNET}.6.2`], HEALTH);
    const { ms, value } = await timed(() => Promise.all([1, 2].map(() => nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' }))));
    expect(value.map((r) => [r.status, JSON.parse(r.body).pod])).toEqual([
      [200, 'good'],
      [200, 'good'],
    ]);
    // Stall mark 150 ms, connect probe passes, 150 ms later a GET /healthz that times out at 300 ms.
    expect(ms).toBeLessThan(1500);
    expect(s.service.counters.rescued).toBe(1);
    expect(s.peer(`127.${SUBNET}.6.1`)).toMatchObject({ state: 'ejected', reason: 'stalled' });
  });

  it('with a health path: a slow pod that answers its health GET is left alone', async () => {
    const slow = await LabPod.start({ name: 'slow', host: `127.${SUBNET}.6.3`, port: PORT, delayMs: 700 });
    cleanup.push(() => slow.close());
    await pod('good', `127.${SUBNET}.6.4`);
    const s = await proxyOver([slow.host, `127.${SUBNET}.6.4`], HEALTH);
    const res = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' });
    expect([res.status, JSON.parse(res.body).pod]).toEqual([200, 'slow']);
    expect(s.service.counters.rescued).toBe(0);
    expect(s.service.counters.probes.failed).toBe(0);
    expect(s.service.counters.probes.ok).toBeGreaterThanOrEqual(2);
    expect(s.peer(slow.host)?.state).toBe('active');
  });
});

describe('hedged tries', () => {
  it('races a stalled GET on another peer and takes the first answer; POST is not hedged by default', async () => {
    const slow = await BadPod.start(`127.${SUBNET}.4.1`, PORT, 'busy');
    cleanup.push(() => slow.close());
    await pod('good', `127.${SUBNET}.4.2`);
    const s = await proxyOver([`127.${SUBNET}.4.1`, `127.${SUBNET}.4.2`], { timeouts: { responseHeaderMs: 1500 } });
    const get = await timed(() => nodeRequest(`${s.url}/echo`, {}));
    expect(get.value.status).toBe(200);
    expect(get.ms).toBeLessThan(800);
    expect(s.service.counters.hedges).toBe(1);
    const post = await timed(() => nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'x' }));
    expect(post.value.status).toBe(200);
    expect(post.ms).toBeGreaterThanOrEqual(1400);
    expect(s.service.counters.hedges).toBe(1);
  });

  it('starts no hedge once the retry deadline has passed', async () => {
    const slow = await BadPod.start(`127.${SUBNET}.4.3`, PORT, 'busy');
    cleanup.push(() => slow.close());
    const good = await pod('good', `127.${SUBNET}.4.4`);
    const s = await proxyOver([`127.${SUBNET}.4.3`, good.host], { timeouts: { responseHeaderMs: 800 }, retry: { deadlineMs: 100 } });
    const get = await nodeRequest(`${s.url}/echo`, {});
    expect(get.status).toBe(504);
    expect(s.service.counters.hedges).toBe(0);
    expect(good.served).toBe(0);
  });
});

describe('slow start', () => {
  it('gives a new pod a small share at first and a full share after the window', async () => {
    const pods = [await pod('p1', `127.${SUBNET}.5.1`), await pod('p2', `127.${SUBNET}.5.2`), await pod('p3', `127.${SUBNET}.5.3`)];
    const s = await proxyOver(
      pods.slice(0, 2).map((p) => p.host),
      { slowStart: { windowMs: 1000 } },
    );
    s.proxy.setAddresses(
      'svc',
      pods.map((p) => p.host),
    );
    const share = async (n: number): Promise<number> => {
      const before = pods[2]?.served ?? 0;
      for (let i = 0; i < n; i++) await nodeRequest(`${s.url}/echo`, {});
      return ((pods[2]?.served ?? 0) - before) / n;
    };
    expect(await share(60)).toBeLessThan(0.2);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await share(60)).toBeCloseTo(1 / 3, 1);
  });
});
