import { LabPod } from '@podgate/lab';
import http from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyServer } from '../src/index.js';
import { nodeRequest, proxyConfig, serviceConfig, type ServiceOverrides } from '@podgate/lab';

// Issue 12: with DNS 30 s behind a rollout, podgate entered panic and sent requests to pods that
// refused connections (3,773 × 502 in 3 s). A pod known to be gone is never sent a try; the last
// live one takes everything; with none left, a fast 503 says why.
const SUBNET = 226;
const PORT = 18326;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function proxyOver(hosts: string[], overrides: ServiceOverrides = {}) {
  const proxy = new ProxyServer({ config: proxyConfig([serviceConfig('svc', PORT, overrides)]), logger: pino({ level: 'silent' }) });
  const { port } = await proxy.listen();
  cleanup.push(() => proxy.close(100));
  proxy.setAddresses('svc', hosts);
  const service = proxy.service('svc');
  if (service === undefined) throw new Error('no service');
  return { url: `http://127.0.0.1:${port}`, service };
}

async function pod(name: string, host: string): Promise<LabPod> {
  const p = await LabPod.start({ name, host, port: PORT });
  cleanup.push(() => p.close());
  return p;
}

const post = (url: string) => nodeRequest(`${url}/recognize`, { method: 'POST', body: 'img' });

describe('known-dead peers in the data plane', () => {
  it('sends every request to the last live pod when the others refuse connections, past the max ejected share', async () => {
    const pods = [
      await pod('a', `127.${SUBNET}.1.1`),
      await pod('b', `127.${SUBNET}.1.2`),
      await pod('c', `127.${SUBNET}.1.3`),
      await pod('live', `127.${SUBNET}.1.4`),
    ];
    const s = await proxyOver(
      pods.map((p) => p.host),
      { ejection: { maxEjectedPercent: 50 } },
    );
    for (const p of pods.slice(0, 3)) await p.terminate('refuse');
    const refused = (): number => s.service.table.list().reduce((n, p) => n + (p.failures.connect_refused ?? 0), 0);
    const answers = [];
    answers.push(...(await Promise.all(Array.from({ length: 8 }, () => post(s.url)))));
    // The first round's tries were picked before any connect failed; after it, none is sent there.
    const afterFirst = refused();
    for (let round = 0; round < 4; round++) answers.push(...(await Promise.all(Array.from({ length: 8 }, () => post(s.url)))));
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(new Set(answers.map((r) => JSON.parse(r.body).pod))).toEqual(new Set(['live']));
    expect(s.service.table.inPanic).toBe(false);
    expect(refused()).toBe(afterFirst);
  });

  it('answers a fast 503 naming the cause when no pod it knows of is alive', async () => {
    const pods = [await pod('a', `127.${SUBNET}.2.1`), await pod('b', `127.${SUBNET}.2.2`)];
    const s = await proxyOver(pods.map((p) => p.host));
    for (const p of pods) await p.terminate('refuse');
    const first = await post(s.url);
    expect(first.status).toBe(503);
    const body = JSON.parse(first.body) as { error: string; message: string; tries: number };
    expect(body.error).toBe('PODGATE_NO_PEER');
    expect(body.message).toMatch(/no usable peer for service svc \(2 ejected\); last try: .*ECONNREFUSED|refused/i);
    expect(body.tries).toBe(2);
    const t0 = Date.now();
    const next = await post(s.url);
    expect(next.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(100);
  });

  it('sends the first request after DNS lists a new pod there', async () => {
    const old = await pod('old', `127.${SUBNET}.3.1`);
    const s = await proxyOver([old.host]);
    await old.terminate('refuse');
    expect((await post(s.url)).status).toBe(503);
    const fresh = await pod('new', `127.${SUBNET}.3.2`);
    s.service.setAddresses([old.host, fresh.host], Date.now());
    const res = await post(s.url);
    expect([res.status, JSON.parse(res.body).pod]).toEqual([200, 'new']);
  });

  it('probes a pod that closed a connection before answering, and knows it dead when the probe is refused', async () => {
    const dying = await LabPod.start({ name: 'dying', host: `127.${SUBNET}.5.1`, port: PORT, delayMs: 300 });
    cleanup.push(() => dying.close());
    const live = await pod('live', `127.${SUBNET}.5.2`);
    // maxEjectedPercent 0: panic would route to any peer ejected on response-level evidence.
    const s = await proxyOver([dying.host, live.host], { ejection: { maxEjectedPercent: 0 } });
    const inFlight = Promise.all([1, 2].map(() => post(s.url)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await dying.terminate('refuse');
    expect((await inFlight).map((r) => [r.status, JSON.parse(r.body).pod])).toEqual([
      [200, 'live'],
      [200, 'live'],
    ]);
    const peer = s.service.table.get(`${dying.host}:${PORT}`);
    for (let i = 0; i < 20 && peer?.reason !== 'connect_refused'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(peer).toMatchObject({ state: 'ejected', reason: 'connect_refused' });
    expect(s.service.table.inPanic).toBe(false);
    const next = await Promise.all(Array.from({ length: 8 }, () => post(s.url)));
    expect(next.map((r) => JSON.parse(r.body).pod)).toEqual(Array(8).fill('live'));
    expect(peer?.failures.connect_refused ?? 0).toBe(0);
  });

  it('retries a connect failure on a live pod it already tried when only known-dead pods are untried', async () => {
    // A pod that answers 502 once, then 200: the request's first try; a refusing pod, its second.
    let answers = 0;
    const flaky = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        answers++;
        res.writeHead(answers === 1 ? 502 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ pod: 'flaky' }));
      });
    });
    await new Promise<void>((resolve) => flaky.listen(PORT, `127.${SUBNET}.4.1`, resolve));
    cleanup.push(() => new Promise<void>((resolve) => flaky.close(() => resolve())));
    const dead = await pod('dead', `127.${SUBNET}.4.2`);
    await dead.terminate('refuse');
    const s = await proxyOver([`127.${SUBNET}.4.1`, dead.host], { ejection: { consecutive5xx: 0 } });
    const res = await post(s.url);
    expect([res.status, JSON.parse(res.body).pod]).toEqual([200, 'flaky']);
    expect(answers).toBe(2);
    expect(s.service.table.get(`${dead.host}:${PORT}`)).toMatchObject({ state: 'ejected', reason: 'connect_refused' });
  });
});
