import { LabDnsServer, LabPod } from '@podgate/lab';
import type { DnsConfig, EventList, EventView, FeedMessage, PodgateConfig, ServiceView } from '@podgate/protocol';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { buildAdminApp, PodgateMetrics, TokenAuth } from '../src/index.js';
import { ControlPlane } from '../src/control-plane.js';
import type { DataPlaneAgent } from '@podgate/proxy';
import { startInProcessDataPlane } from '../src/in-process.js';
import { LiveFeed } from '../src/feed/live-feed.js';
import type { ProxyServer } from '@podgate/proxy';
import { nodeRequest, proxyConfig, serviceConfig } from '@podgate/lab';

/*
 * DNS trouble as on-call and clients see it, over the real control plane, a data plane fed by the
 * same messages as a worker process, and the lab's DNS server on the wire.
 */

const NAME = 'trouble.lab.svc.cluster.local';
const PORT = 18331;
const TOKEN = 'dns-trouble-token';
const logger = pino({ level: 'silent' });

let server: LabDnsServer;
let control: ControlPlane | null;
let plane: { proxy: ProxyServer; agent: DataPlaneAgent; url: string } | null;
let feed: { live: LiveFeed; http: Server } | null;
const pods: LabPod[] = [];

beforeEach(async () => {
  server = await LabDnsServer.start();
  control = null;
  plane = null;
  feed = null;
});

afterEach(async () => {
  if (feed !== null) {
    await feed.live.close();
    await new Promise((resolve) => feed?.http.close(resolve));
  }
  if (plane !== null) {
    plane.agent.close();
    await plane.proxy.close(100);
  }
  await control?.close();
  await Promise.all(pods.splice(0).map((p) => p.close()));
  await server.close();
});

function config(dns: Partial<DnsConfig>): PodgateConfig {
  const c = proxyConfig([serviceConfig('svc', PORT, { dnsName: NAME })]);
  c.dns = {
    ...c.dns,
    nameservers: [server.nameserver],
    timeoutMs: 300,
    attempts: 1,
    minRefreshMs: 100,
    maxRefreshMs: 1000,
    emptyGraceMs: 0,
    jitter: 0,
    ...dns,
  };
  return c;
}

/** A control plane with one data plane attached through the worker messages (copied, as IPC would). */
async function start(dns: Partial<DnsConfig>, withDataPlane = true): Promise<ControlPlane> {
  const cfg = config(dns);
  const started = await ControlPlane.start({ config: cfg, parseService: () => serviceConfig('unused', PORT), logger });
  control = started;
  if (withDataPlane) {
    const { proxy, agent } = startInProcessDataPlane(started, cfg, logger);
    const { port } = await proxy.listen();
    plane = { proxy, agent, url: `http://127.0.0.1:${port}` };
  }
  return started;
}

async function until(check: () => boolean, ms = 3000): Promise<number> {
  const begin = Date.now();
  while (!check()) {
    if (Date.now() - begin > ms) throw new Error(`not within ${ms} ms`);
    await sleep(10);
  }
  return Date.now() - begin;
}

/** Requests until the 503's message contains `text`; returns that message. */
async function noPodsMessage(text: string, ms = 3000): Promise<string> {
  const begin = Date.now();
  let last = '';
  for (;;) {
    const res = await nodeRequest(`${plane?.url}/echo`, {});
    expect(res.status).toBe(503);
    const body = JSON.parse(res.body) as { error: string; message: string };
    expect(body.error).toBe('PODGATE_NO_PEER');
    last = body.message;
    if (last.includes(text)) return last;
    if (Date.now() - begin > ms) throw new Error(`no 503 saying ${JSON.stringify(text)} within ${ms} ms; last: ${last}`);
    await sleep(30);
  }
}

/** GET on the admin API (its response schemas decide which fields get out). */
async function apiGet<T>(on: ControlPlane, path: string): Promise<T> {
  const metrics = new PodgateMetrics(on);
  const app = buildAdminApp({ control: on, auth: new TokenAuth([{ name: 'victor', token: TOKEN, role: 'viewer' }]), metrics, logger });
  try {
    const res = await app.inject({ method: 'GET', url: `/api/v1${path}`, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    return res.json<T>();
  } finally {
    await app.close();
    metrics.close();
  }
}

async function startFeed(on: ControlPlane): Promise<void> {
  const live = new LiveFeed({
    control: on,
    authenticate: (req: IncomingMessage) => (req.headers.authorization === `Bearer ${TOKEN}` ? { name: 'alice' } : null),
  });
  const http = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => live.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  feed = { live, http };
}

async function connectFeed(): Promise<{ ws: WebSocket; messages: FeedMessage[] }> {
  const { port } = feed?.http.address() as AddressInfo;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const messages: FeedMessage[] = [];
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as FeedMessage));
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  return { ws, messages };
}

describe('a service without pods because of DNS says why', () => {
  it('tells a client whether DNS has not answered yet, the name has no records, or the nameserver fails, naming the nameserver', async () => {
    const ns = server.nameserver;
    server.setSilent(true);
    const cp = await start({ timeoutMs: 400 });
    const dns = () => cp.getService('svc')?.dns;
    expect(await noPodsMessage('no DNS answer')).toBe(`service svc has no pods: no DNS answer yet for ${NAME} (still resolving)`);
    expect(dns()?.condition).toBe('resolving');

    const timedOut = `DNS lookup of ${NAME} failed: ${ns}: timed out after 400 ms ×1`;
    expect(await noPodsMessage('timed out')).toBe(`service svc has no pods: ${timedOut}`);
    expect(dns()).toMatchObject({ condition: 'failing', problem: timedOut });

    server.setSilent(false);
    const nxdomain = `NXDOMAIN from ${ns}: ${NAME} does not exist`;
    expect(await noPodsMessage('NXDOMAIN')).toBe(`service svc has no pods: ${nxdomain}`);
    expect(dns()).toMatchObject({ condition: 'empty', problem: nxdomain });

    server.setServfail(true);
    expect(await noPodsMessage('SERVFAIL')).toBe(`service svc has no pods: DNS lookup of ${NAME} failed: SERVFAIL from ${ns}`);
    expect(dns()?.condition).toBe('failing');
  });

  it('answers a client with "connection refused" and the nameserver when nothing listens on its port, and logs the same cause', async () => {
    // A closed UDP port: the kernel answers ICMP port unreachable, node reports ECONNREFUSED.
    const gone = await LabDnsServer.start({ host: '127.0.0.3' });
    const ns = gone.nameserver;
    await gone.close();
    const cp = await start({ nameservers: [ns] });
    expect(await noPodsMessage('refused')).toBe(`service svc has no pods: DNS lookup of ${NAME} failed: ${ns}: connection refused`);
    const failed = cp.events(0, 100).events.find((e) => e.type === 'dns_failed');
    expect(failed?.detail).toBe(`${ns}: connection refused; keeping 0 known addresses`);
    const view = await apiGet<ServiceView>(cp, '/services/svc');
    expect(view.dns).toMatchObject({
      condition: 'failing',
      problem: `DNS lookup of ${NAME} failed: ${ns}: connection refused`,
      lastError: { code: 'ECONNREFUSED', message: `${ns}: connection refused` },
    });
  });
});

describe('repeated DNS failures', () => {
  it('collapses a failing nameserver into one dns_failed event per cause that counts its refreshes, in the API and the live feed, and records the recovery', async () => {
    server.setRecords(NAME, { a: ['127.231.0.1'], ttl: 0 });
    const cp = await start({ timeoutMs: 150 }, false);
    await startFeed(cp);
    const early = await connectFeed();
    await until(() => cp.getService('svc')?.peers.length === 1);
    const failedRefreshes = () => cp.getService('svc')?.dns.refreshes.failed ?? 0;

    server.setServfail(true);
    await until(() => failedRefreshes() >= 5);
    server.setServfail(false);
    server.setSilent(true);
    const switched = failedRefreshes();
    await until(() => failedRefreshes() >= switched + 3);
    server.setSilent(false);
    await until(() => cp.events(0, 1000).events.some((e) => e.type === 'dns_recovered'));

    const dnsEvents = cp.events(0, 1000).events.filter((e) => e.type.startsWith('dns_'));
    expect(dnsEvents.map((e) => e.type)).toEqual(['dns_failed', 'dns_failed', 'dns_recovered']);
    const [servfail, timeout, recovered] = dnsEvents as [EventView, EventView, EventView];
    expect(servfail.detail).toBe(`SERVFAIL from ${server.nameserver}; keeping 1 known addresses`);
    expect(timeout.detail).toBe(`${server.nameserver}: timed out after 150 ms ×1; keeping 1 known addresses`);
    expect(servfail.count).toBeGreaterThanOrEqual(4);
    expect(timeout.count).toBeGreaterThanOrEqual(2);
    expect(servfail.lastAt).toBeGreaterThan(servfail.at);
    expect((servfail.count ?? 0) + (timeout.count ?? 0)).toBe(failedRefreshes());
    expect(recovered).toMatchObject({ failures: failedRefreshes() });
    // From the first failed refresh to the answer, as the refresher timed them (the log stamps a moment later).
    expect(Math.abs((recovered.durationMs ?? 0) - (recovered.at - servfail.at))).toBeLessThanOrEqual(20);
    expect(recovered.detail).toMatch(/^resolved again after \d+\.\d s: \d+ refresh(es)? failed; last: .*timed out/);
    const listed = await apiGet<EventList>(cp, '/events?since=0&limit=100');
    expect(listed.events.filter((e) => e.type.startsWith('dns_'))).toEqual(dnsEvents);

    // The feed re-sends the event under its id as it counts, and a new client's snapshot holds it once.
    const resent = early.messages.flatMap((m) => (m.type === 'event' && m.event.id === servfail.id ? [m.event.count ?? 1] : []));
    expect(resent.length).toBeGreaterThanOrEqual(4);
    expect(resent).toEqual([...resent].sort((a, b) => a - b));
    expect(resent.at(-1)).toBe(servfail.count);
    const late = await connectFeed();
    await until(() => late.messages.some((m) => m.type === 'snapshot'));
    const snapshot = late.messages.find((m) => m.type === 'snapshot');
    const shown = snapshot?.type === 'snapshot' ? snapshot.events.filter((e) => e.type.startsWith('dns_')) : [];
    expect(shown.map((e) => [e.type, e.count])).toEqual([
      ['dns_failed', servfail.count],
      ['dns_failed', timeout.count],
      ['dns_recovered', undefined],
    ]);
    early.ws.terminate();
    late.ws.terminate();
  });
});

describe('a service running out of pods', () => {
  it('re-resolves within a second when all four pods die long before the next refresh (minRefresh and maxRefresh 30 s), and picks up their replacements', async () => {
    for (let i = 1; i <= 4; i++) pods.push(await LabPod.start({ name: `old-${i}`, host: `127.231.1.${i}`, port: PORT }));
    server.setRecords(NAME, { a: pods.map((p) => p.host), ttl: 30 });
    const cp = await start({ minRefreshMs: 30_000, maxRefreshMs: 30_000, emptyGraceMs: 30_000 });
    await until(() => (plane?.proxy.service('svc')?.table.size ?? 0) === 4);
    const firstRefreshAt = cp.getService('svc')?.dns.lastRefreshAt ?? 0;
    // Well after the first refresh, well before the next (due 30 s after it).
    await sleep(1200);
    const replacements: LabPod[] = [];
    for (let i = 1; i <= 4; i++) replacements.push(await LabPod.start({ name: `new-${i}`, host: `127.231.2.${i}`, port: PORT }));
    pods.push(...replacements);
    server.setRecords(NAME, { a: replacements.map((p) => p.host), ttl: 30 });
    for (const pod of pods.slice(0, 4)) await pod.terminate('refuse');
    const diedAt = Date.now();

    // Clients keep coming; their tries find the dead pods (connection refused) and eject them.
    let served = '';
    while (!served.startsWith('new-')) {
      if (Date.now() - diedAt > 3000) throw new Error('no replacement pod served within 3 s');
      const res = await nodeRequest(`${plane?.url}/echo`, {});
      if (res.status === 200) served = (JSON.parse(res.body) as { pod: string }).pod;
      else await sleep(20);
    }
    const tookMs = Date.now() - diedAt;
    expect(tookMs).toBeLessThan(1000);
    expect((cp.getService('svc')?.dns.lastRefreshAt ?? 0) - firstRefreshAt).toBeLessThan(5000);

    // Half or more alive again: back to the 30 s rhythm.
    await until(() => cp.getService('svc')?.dns.urgent === false, 1500);
    const dns = cp.getService('svc')?.dns;
    expect(dns?.addresses).toEqual(replacements.map((p) => p.host));
    expect((dns?.nextRefreshAt ?? 0) - Date.now()).toBeGreaterThan(25_000);
  });
});
