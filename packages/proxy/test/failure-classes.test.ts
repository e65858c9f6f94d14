import { LabPod } from '@podgate/lab';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { PeerEvent } from '@podgate/protocol';
import { ProxyServer } from '../src/index.js';
import { BadPod, type Misbehaviour } from './bad-pod.js';
import { nodeRequest, proxyConfig, serviceConfig, type ServiceOverrides } from '@podgate/lab';

const SUBNET = 212;
const PORT = 18312;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A proxy whose service lists `bad` (first in round-robin order) then one good lab pod. */
async function setup(bad: Misbehaviour | 'refused' | 'blackhole' | null, overrides: ServiceOverrides = {}, host = 1) {
  const events: PeerEvent[] = [];
  const badHost = `127.${SUBNET}.${host}.1`;
  const goodHost = `127.${SUBNET}.${host}.2`;
  let badPod: BadPod | null = null;
  if (bad === 'blackhole') {
    const pod = await LabPod.start({ name: 'dead', host: badHost, port: PORT });
    await pod.terminate('blackhole');
    cleanup.push(() => pod.close());
  } else if (bad !== null && bad !== 'refused') {
    badPod = await BadPod.start(badHost, PORT, bad);
    cleanup.push(() => (badPod as BadPod).close());
  }
  const good = await LabPod.start({ name: 'good', host: goodHost, port: PORT });
  cleanup.push(() => good.close());
  const proxy = new ProxyServer({
    config: proxyConfig([serviceConfig('svc', PORT, overrides)]),
    logger: pino({ level: 'silent' }),
    onPeerEvent: (e) => events.push(e),
  });
  const { port } = await proxy.listen();
  cleanup.push(() => proxy.close(100));
  proxy.setAddresses('svc', [badHost, goodHost]);
  const peer = (h: string) => proxy.service('svc')?.table.get(`${h}:${PORT}`);
  return { url: `http://127.0.0.1:${port}`, proxy, events, badPod, good, badPeer: () => peer(badHost), goodPeer: () => peer(goodHost) };
}

describe('failure classes, retries and ejection', () => {
  it('ejects a peer that refuses connections and retries on another', async () => {
    const s = await setup('refused');
    const res = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).pod).toBe('good');
    expect(s.badPeer()).toMatchObject({ state: 'ejected', reason: 'connect_refused' });
    expect(s.events.find((e) => e.type === 'peer_ejected')?.detail).toContain('111: Connection refused');
  });

  it('ejects a black-holed peer on connect timeout and retries a POST elsewhere', async () => {
    // Without the faster mechanisms, so this is the connect timeout class itself.
    const s = await setup('blackhole', {
      timeouts: { connectMs: 300 },
      retry: { on: ['error'] },
      connectHedge: { enabled: false },
      rescue: { enabled: false },
    });
    const t0 = Date.now();
    const res = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' });
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(s.badPeer()).toMatchObject({ state: 'ejected', reason: 'connect_timeout' });
  });

  it('retries a POST closed before the response header when on allows non_idempotent, and ejects', async () => {
    const s = await setup('close');
    const res = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' });
    expect(res.status).toBe(200);
    expect(s.badPod?.requests).toBe(1);
    expect(s.badPeer()).toMatchObject({ state: 'ejected', reason: 'closed_before_header' });
  });

  it('does not retry a POST after it was sent when on lacks non_idempotent', async () => {
    const s = await setup('reset', { retry: { on: ['error', 'timeout'] } });
    const res = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'img' });
    expect(res.status).toBe(502);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ error: 'PODGATE_UPSTREAM_FAILED', tries: 1, service: 'svc' });
    expect(body.message).toContain('Connection reset by peer');
    expect(body.requestId).toMatch(/-/);
  });

  it('retries a GET on reset even without non_idempotent', async () => {
    const s = await setup('reset', { retry: { on: ['error'] } });
    const res = await nodeRequest(`${s.url}/echo`, {});
    expect(res.status).toBe(200);
    expect(s.badPeer()?.reason).toBe('reset_before_header');
  });

  it('classifies an invalid response header as invalid_header and retries only when on names it', async () => {
    const s = await setup('invalid_header', { retry: { on: ['error'] } });
    const res = await nodeRequest(`${s.url}/echo`, {});
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).message).toContain('invalid header');
    await s.proxy.close(100);
    const s2 = await setup('invalid_header', { retry: { on: ['invalid_header'] } }, 2);
    expect((await nodeRequest(`${s2.url}/echo`, {})).status).toBe(200);
  });

  it('answers 504 when every try times out waiting for the header', async () => {
    // Rescue off: a hung pod is otherwise found by its probe well before the header timeout.
    const s = await setup('silent', { timeouts: { responseHeaderMs: 200 }, retry: { tries: 1 }, rescue: { enabled: false } });
    const res = await nodeRequest(`${s.url}/echo`, {});
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'PODGATE_UPSTREAM_TIMEOUT', tries: 1 });
  });

  it('retries a header timeout on another peer when on names timeout', async () => {
    const s = await setup('silent', { timeouts: { responseHeaderMs: 200 }, rescue: { enabled: false } });
    const res = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(200);
    expect(s.badPeer()?.failures.header_timeout).toBe(1);
    expect(s.badPeer()?.state).toBe('active');
  });

  it('retries a 502 answer on another peer and ejects after consecutive 5xx', async () => {
    const s = await setup('status_502', { ejection: { consecutive5xx: 2 } });
    for (let i = 0; i < 4; i++) {
      const res = await nodeRequest(`${s.url}/echo`, {});
      expect(res.status).toBe(200);
    }
    expect(s.badPeer()).toMatchObject({ state: 'ejected', reason: 'consecutive_5xx' });
    expect(s.badPod?.requests).toBe(2);
  });

  it('passes the last 5xx through when no try is left', async () => {
    const s = await setup(null, { retry: { tries: 2 } });
    const res = await nodeRequest(`${s.url}/status/502`, {});
    expect(res.status).toBe(502);
    expect(res.body).not.toContain('PODGATE');
    expect(s.good.served).toBe(1);
  });

  it('answers 503 with a clear body when the service has no peer', async () => {
    const s = await setup(null);
    s.proxy.setAddresses('svc', []);
    const res = await nodeRequest(`${s.url}/echo`, {});
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'PODGATE_NO_PEER' });
    expect(JSON.parse(res.body).message).toContain('lists no addresses');
  });

  it('does not replay a body larger than the buffer once it was sent', async () => {
    const s = await setup('close', { body: { bufferBytes: 1024 } });
    const res = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: Buffer.alloc(64 * 1024) });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).tries).toBe(1);
    const ok = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: Buffer.alloc(64 * 1024) });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).bytes).toBe(64 * 1024);
  });

  it('still retries a large body after a connect failure, since the pod never read it', async () => {
    const s = await setup('refused', { body: { bufferBytes: 1024 } });
    const res = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: Buffer.alloc(64 * 1024) });
    expect(res.status).toBe(200);
  });
});
