import { LabCluster, LabDnsServer } from '@podgate/lab';
import type { FeedMessage, PodgateConfig } from '@podgate/protocol';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ControlPlane } from '../src/control-plane.js';
import { startInProcessDataPlane } from '../src/in-process.js';
import { LiveFeed } from '../src/feed/live-feed.js';
import { nodeRequest, proxyConfig, serviceConfig } from '@podgate/lab';

const NAME = 'feed.lab.svc.cluster.local';
const PORT = 18317;
const TOKEN = 'feed-control-token';
let dns: LabDnsServer;
let cluster: LabCluster;
let control: ControlPlane;
let feed: LiveFeed;
let server: Server;

function config(refreshMs: number): PodgateConfig {
  const c = proxyConfig([serviceConfig('svc', PORT, { dnsName: NAME })]);
  c.dns = { ...c.dns, nameservers: [dns.nameserver], minRefreshMs: refreshMs, maxRefreshMs: refreshMs };
  return c;
}

// DNS refreshes every second unless a test says otherwise (each refresh also re-sends the service).
let refreshMs = 1000;

beforeEach(async (ctx) => {
  refreshMs = ctx.task.name.includes('counters') ? 60_000 : 1000;
  dns = await LabDnsServer.start();
  cluster = await LabCluster.start({ dns, dnsName: NAME, replicas: 2, ttl: 1, port: PORT, subnet: 217 });
  control = await ControlPlane.start({ config: config(refreshMs), parseService: () => serviceConfig('unused', PORT), logger: pino({ level: 'silent' }) });
  for (let i = 0; (control.getService('svc')?.peers.length ?? 0) < 2; i++) {
    if (i > 300) throw new Error('the control plane did not resolve both pods within 3 s');
    await sleep(10);
  }
  feed = new LiveFeed({ control, authenticate: (req: IncomingMessage) => (req.headers.authorization === `Bearer ${TOKEN}` ? { name: 'alice' } : null) });
  server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => feed.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  await feed.close();
  await new Promise((resolve) => server.close(resolve));
  await control.close();
  await cluster.close();
  await dns.close();
});

async function connect(): Promise<{ ws: WebSocket; messages: FeedMessage[] }> {
  const { port } = server.address() as AddressInfo;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const messages: FeedMessage[] = [];
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as FeedMessage));
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  return { ws, messages };
}

describe('live feed over the real control plane', () => {
  it('sends the service again when only its traffic counters moved (the dashboard rates come from them)', async () => {
    const { proxy, agent } = startInProcessDataPlane(control, config(refreshMs), pino({ level: 'silent' }));
    const { port } = await proxy.listen();
    try {
      const { ws, messages } = await connect();
      const requestsSeen = (): number[] =>
        messages.flatMap((m) => (m.type === 'changes' ? m.services.filter((s) => s.name === 'svc').map((s) => s.requests) : []));
      for (let round = 1; round <= 2; round++) {
        for (let i = 0; i < 5; i++) expect((await nodeRequest(`http://127.0.0.1:${port}/echo`, {})).status).toBe(200);
        const start = Date.now();
        while (!requestsSeen().includes(round * 5) && Date.now() - start < 1500) await sleep(20);
        expect(requestsSeen()).toContain(round * 5);
      }
      ws.terminate();
    } finally {
      agent.close();
      await proxy.close(100);
    }
  });

  it('shows an operator ejection as an event and a changed service within 1 s', async () => {
    const { port } = server.address() as AddressInfo;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const messages: FeedMessage[] = [];
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as FeedMessage));
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    for (let i = 0; messages.length === 0; i++) {
      if (i > 100) throw new Error('no snapshot within 1 s');
      await sleep(10);
    }

    const snapshot = messages[0];
    if (snapshot?.type !== 'snapshot') throw new Error(`first message is ${snapshot?.type}, not a snapshot`);
    const peers = snapshot.services.find((s) => s.name === 'svc')?.peers ?? [];
    expect(peers.map((p) => p.state)).toEqual(['active', 'active']);
    const address = peers[0]?.address ?? '';

    const start = Date.now();
    await control.peerAction('svc', address, 'eject', 'test');
    const ejected = (): boolean => messages.some((m) => m.type === 'event' && m.event.type === 'peer_ejected' && m.event.address === address);
    const changed = (): boolean =>
      messages.some(
        (m) => m.type === 'changes' && m.services.some((s) => s.name === 'svc' && s.peers.some((p) => p.address === address && p.state === 'ejected')),
      );
    while (!(ejected() && changed()) && Date.now() - start < 1000) await sleep(10);
    expect(ejected()).toBe(true);
    expect(changed()).toBe(true);
    expect(messages.some((m) => m.type === 'event' && m.event.type === 'operator_action' && m.event.actor === 'test')).toBe(true);
    ws.terminate();
  });
});
