import { LabPod } from '@podgate/lab';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyServer } from '../src/index.js';
import { nodeRequest, proxyConfig, serviceConfig, type ServiceOverrides } from '@podgate/lab';

const SUBNET = 215;
const PORT = 18315;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(podCount: number, overrides: ServiceOverrides = {}, first = 1) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
  const pods: LabPod[] = [];
  for (let i = first; i < first + podCount; i++) pods.push(await LabPod.start({ name: `pod-${i}`, host: `127.${SUBNET}.0.${i}`, port: PORT }));
  cleanup.push(() => Promise.all(pods.map((p) => p.close())).then(() => undefined));
  const config = proxyConfig([serviceConfig('svc', PORT, overrides)]);
  config.log = { level: 'info', access: true };
  const proxy = new ProxyServer({ config, logger: pino({ level: 'info' }, sink) });
  const { port } = await proxy.listen();
  cleanup.push(() => proxy.close(100));
  proxy.setAddresses(
    'svc',
    pods.map((p) => p.host),
  );
  return { url: `http://127.0.0.1:${port}`, proxy, pods, lines };
}

describe('data plane lifecycle', () => {
  it('writes one access line per request and error lines in nginx words', async () => {
    const s = await setup(1);
    // Only the dead address first, so round robin tries it before the live pod.
    s.proxy.setAddresses('svc', [`127.${SUBNET}.0.99`]);
    s.proxy.setAddresses('svc', [`127.${SUBNET}.0.99`, `127.${SUBNET}.0.1`]);
    const res = await nodeRequest(`${s.url}/recognize`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(200);
    const access = s.lines.filter((l) => 'status' in l);
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      service: 'svc',
      method: 'POST',
      path: '/recognize',
      client: '127.0.0.1',
      status: 200,
      tries: 2,
      retries: 1,
      peers: `127.${SUBNET}.0.99:${PORT},127.${SUBNET}.0.1:${PORT}`,
    });
    const error = s.lines.find((l) => l.level === 40);
    expect(error?.msg).toBe(`connect() failed (111: Connection refused) while connecting to upstream, upstream: "127.${SUBNET}.0.99:${PORT}"`);
  });

  it('closes the pool of a peer that left DNS', async () => {
    const s = await setup(2, {}, 10);
    await request(`${s.url}/echo`);
    await request(`${s.url}/echo`);
    const leaving = s.proxy.service('svc')?.table.get(`127.${SUBNET}.0.10:${PORT}`);
    const pool = leaving?.handle;
    expect(pool?.closed).toBe(false);
    s.proxy.setAddresses('svc', [`127.${SUBNET}.0.11`]);
    expect(s.proxy.service('svc')?.table.get(`127.${SUBNET}.0.10:${PORT}`)).toBeUndefined();
    expect(pool?.closed).toBe(true);
  });

  it('keeps a busy peer gone from DNS until its request ends, then removes it', async () => {
    const s = await setup(2, {}, 20);
    const slow = nodeRequest(`${s.url}/slow/300`, {});
    await new Promise((r) => setTimeout(r, 50));
    const table = s.proxy.service('svc')?.table;
    s.proxy.setAddresses('svc', [`127.${SUBNET}.0.21`]);
    expect(table?.get(`127.${SUBNET}.0.20:${PORT}`)?.state).toBe('terminating');
    expect((await slow).status).toBe(200);
    expect(table?.get(`127.${SUBNET}.0.20:${PORT}`)).toBeUndefined();
  });

  it('releases the peer when the client goes away mid-request, and survives it', async () => {
    const s = await setup(1, {}, 30);
    const ac = new AbortController();
    const pending = request(`${s.url}/slow/500`, { signal: ac.signal }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 100));
    const peer = s.proxy.service('svc')?.table.get(`127.${SUBNET}.0.30:${PORT}`);
    expect(peer?.inFlight).toBe(1);
    ac.abort();
    await pending;
    for (let i = 0; i < 50 && peer?.inFlight !== 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(peer?.inFlight).toBe(0);
    expect(peer?.state).toBe('active');
    expect(s.lines.find((l) => l.status === 499)).toBeDefined();
    expect((await nodeRequest(`${s.url}/echo`, {})).status).toBe(200);
  });

  it('stops retrying once the retry deadline has passed', async () => {
    // No hedging here: this is about the retry after a timeout, not a twin raced before it.
    const s = await setup(2, { timeouts: { responseHeaderMs: 300 }, retry: { deadlineMs: 200, tries: 3 }, hedge: { methods: [] } }, 40);
    const t0 = Date.now();
    const res = await nodeRequest(`${s.url}/slow/2000`, {});
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body).tries).toBe(1);
    // undici checks timeouts on a ~0.5 s tick, so a 300 ms header timeout fires within about 1 s.
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it('balances by least request when configured', async () => {
    const s = await setup(2, { algorithm: 'least_request' }, 50);
    const slow = [nodeRequest(`${s.url}/slow/400`, {}), nodeRequest(`${s.url}/slow/400`, {})];
    await new Promise((r) => setTimeout(r, 50));
    const table = s.proxy.service('svc')?.table;
    const loads = table?.list().map((p) => p.inFlight);
    expect(loads).toEqual([1, 1]);
    await Promise.all(slow);
  });

  it('answers 501 to protocol upgrades instead of passing them on', async () => {
    const s = await setup(1, {}, 60);
    const res = await nodeRequest(`${s.url}/ws`, { headers: { connection: 'upgrade', upgrade: 'websocket' } });
    expect(res.status).toBe(501);
    expect(JSON.parse(res.body).error).toBe('PODGATE_UPGRADE_UNSUPPORTED');
    expect(s.pods[0]?.served).toBe(0);
  });

  it('finishes in-flight requests on close, then stops accepting', async () => {
    const s = await setup(1, {}, 70);
    const slow = nodeRequest(`${s.url}/slow/300`, {});
    await new Promise((r) => setTimeout(r, 50));
    await s.proxy.close(2000);
    expect((await slow).status).toBe(200);
    await expect(nodeRequest(`${s.url}/echo`, {})).rejects.toThrow(/ECONNREFUSED/);
  });
});
