import { LabPod, nodeRequest, type ServiceOverrides } from '@podgate/lab';
import { afterEach, describe, expect, it } from 'vitest';
import { BadPod } from './bad-pod.js';
import { slowProxyOver } from './fixtures.js';

/*
 * How a request's tries are counted (docs/failover.md, "How tries are counted"): `retry.tries`
 * counts every try started, the first included; a try rescued from a dead peer gives its try back.
 * And which counter each way of starting a second try moves.
 *
 * The order of peers is staged through DNS: round robin takes the first listed peer first, and a
 * peer listed only once the request is under way can take only its later tries.
 */

const SUBNET = 233;
const PORT = 18333;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const proxyOver = (hosts: string[], overrides: ServiceOverrides) => slowProxyOver(PORT, hosts, overrides, cleanup);

async function badPod(host: string, how: 'silent' | 'busy'): Promise<BadPod> {
  const p = await BadPod.start(host, PORT, how);
  cleanup.push(() => p.close());
  return p;
}

async function pod(name: string, host: string): Promise<LabPod> {
  const p = await LabPod.start({ name, host, port: PORT });
  cleanup.push(() => p.close());
  return p;
}

async function until(what: string, done: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('a rescued try gives its try back', () => {
  // A GET tried first on a hung pod (it stalls, its probe fails: its try is rescued), then on a
  // busy one (alive, never answers: its try stalls), then on a good one, which DNS lists only once
  // the busy pod got its try.
  async function hungBusyGood(subnet: number, overrides: ServiceOverrides) {
    const hung = await badPod(`127.${SUBNET}.${subnet}.1`, 'silent');
    const busy = await badPod(`127.${SUBNET}.${subnet}.2`, 'busy');
    const good = await pod('good', `127.${SUBNET}.${subnet}.3`);
    const hosts = [`127.${SUBNET}.${subnet}.1`, `127.${SUBNET}.${subnet}.2`];
    const s = await proxyOver(hosts, overrides);
    const t0 = Date.now();
    const pending = nodeRequest(`${s.url}/echo`, {});
    await until('the busy pod gets a try', () => busy.requests === 1);
    s.proxy.setAddresses('svc', [...hosts, good.host]);
    const res = await pending;
    return { res, ms: Date.now() - t0, s, hung, busy, good };
  }

  it('with tries 2, a GET hedged off a hung pod is hedged again once the hung try was rescued', async () => {
    // Try 1 (hung) stalls: hedge, try 2 (busy). Its probe fails: try 1 is rescued, nothing re-sent
    // (its twin runs on) but its try given back. Try 2 stalls: 2 + 1 rescued - 2 started leaves
    // one, hedge, try 3 (good). Were the rescued try counted, try 2 would be the last one and the
    // GET would wait the full 10 s response timeout on the busy pod.
    const { res, ms, s, hung, busy, good } = await hungBusyGood(1, { retry: { tries: 2 } });
    expect([res.status, JSON.parse(res.body).pod]).toEqual([200, 'good']);
    // Two stall marks of 150 ms.
    expect(ms).toBeLessThan(2000);
    // The hung pod's second request is the probe's OPTIONS *, which it leaves unanswered too.
    expect([hung.requests, busy.requests, good.served]).toEqual([2, 1, 1]);
    expect(s.service.counters).toMatchObject({ rescued: 1, hedges: 2, connectHedges: 0, retries: 2 });
  });

  it('with tries 1, the given-back try is the only one: the re-sent GET is not hedged and times out', async () => {
    // Try 1 (hung) stalls: no try left, no hedge. Its probe fails: it is rescued, its try given
    // back and re-sent as try 2 (busy). Try 2 stalls: 1 + 1 rescued - 2 started leaves none. Were
    // a rescue to give back more than its own try (or its re-send not count), try 2 would be
    // hedged to the good pod.
    const { res, s, hung, busy, good } = await hungBusyGood(2, { retry: { tries: 1 }, timeouts: { responseHeaderMs: 800 } });
    expect(res.status).toBe(504);
    expect([hung.requests, busy.requests, good.served]).toEqual([2, 1, 0]);
    expect(s.service.counters).toMatchObject({ rescued: 1, hedges: 0, connectHedges: 0, retries: 1 });
  });
});

describe('second tries are counted by mechanism', () => {
  it('counts a late connect moved to another peer as a connect hedge, and a stalled GET raced on another peer as a hedge', async () => {
    const dead = await pod('dead', `127.${SUBNET}.3.1`);
    await dead.terminate('blackhole');
    const good = await pod('good', `127.${SUBNET}.3.2`);
    const busy = await badPod(`127.${SUBNET}.3.3`, 'busy');
    const s = await proxyOver([dead.host, good.host], {});

    // A POST (not in hedge.methods) whose connect is late: moved, never hedged.
    const post = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' });
    expect([post.status, JSON.parse(post.body).pod]).toEqual([200, 'good']);
    expect(s.service.counters).toMatchObject({ connectHedges: 1, hedges: 0 });

    // A GET on a pod that connects and never answers: raced on the good pod, which DNS lists only
    // once the GET reached the busy one.
    s.proxy.setAddresses('svc', [`127.${SUBNET}.3.3`]);
    const pending = nodeRequest(`${s.url}/echo`, {});
    await until('the GET reaches the busy pod', () => busy.requests === 1);
    s.proxy.setAddresses('svc', [`127.${SUBNET}.3.3`, good.host]);
    const get = await pending;
    expect([get.status, JSON.parse(get.body).pod]).toEqual([200, 'good']);
    expect(s.service.counters).toMatchObject({ connectHedges: 1, hedges: 1 });
  });
});
