import type { EventList, EventView, FeedMessage, FleetView, ServiceView } from '@podgate/protocol';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ControlApi, ControlChange } from '../src/control-api.js';
import { LiveFeed, type LiveFeedOptions } from '../src/feed/live-feed.js';
import { normalizeOrigins, originAllowed } from '../src/feed/live-feed-upgrade.js';

const TOKEN = 'feed-test-token';

/** A ControlApi whose data the test sets and whose changes the test emits. */
class FakeControl implements ControlApi {
  readonly services = new Map<string, ServiceView>();
  readonly log: EventView[] = [];
  private readonly listeners = new Set<(change: ControlChange) => void>();

  setService(name: string, requests: number, pad = 0): void {
    this.services.set(name, serviceView(name, requests, pad));
    this.emit({ kind: 'service', name });
  }
  removeService(name: string): Promise<void> {
    this.services.delete(name);
    this.emit({ kind: 'service_removed', name });
    return Promise.resolve();
  }
  event(detail = ''): EventView {
    const event: EventView = {
      id: this.log.length + 1,
      at: Date.now(),
      type: 'peer_ejected',
      level: 'notice',
      service: 'svc-0',
      address: '127.10.0.1:80',
      detail,
    };
    this.log.push(event);
    this.emit({ kind: 'event', event });
    return event;
  }
  emit(change: ControlChange): void {
    for (const l of this.listeners) l(change);
  }
  listServices(): ServiceView[] {
    return [...this.services.values()];
  }
  fleet(): FleetView {
    return { name: null, state: 'off', since: 0, error: null, version: 0, self: 'test', instances: [] };
  }
  getService(name: string): ServiceView | null {
    return this.services.get(name) ?? null;
  }
  events(since: number, limit: number): EventList {
    const page = this.log.filter((e) => e.id > since).slice(0, limit);
    return { events: page, next: page.at(-1)?.id ?? since };
  }
  subscribe(listener: (change: ControlChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  get subscribers(): number {
    return this.listeners.size;
  }
  addService(): Promise<ServiceView> {
    throw new Error('not used by the feed');
  }
  peerAction(): never {
    throw new Error('not used by the feed');
  }
  workerStats(): [] {
    return [];
  }
  ready(): boolean {
    return true;
  }
}

function serviceView(name: string, requests: number, pad: number): ServiceView {
  return {
    name,
    source: 'config',
    dnsName: `${name}.lab.svc.cluster.local`,
    port: 8080,
    routes: [{ pathPrefix: `/${name}` }],
    algorithm: 'round_robin',
    panic: false,
    dns: {
      name: `${name}.lab.svc.cluster.local`,
      lastRefreshAt: null,
      lastSuccessAt: null,
      lastError: null,
      lastKnownGoodAgeMs: null,
      nextRefreshAt: null,
      addresses: [],
      refreshes: { resolved: 0, failed: 0, empty: 0 },
    },
    requests,
    inFlight: 0,
    retries: 0,
    responses: pad > 0 ? { padding: pad, [`x${'x'.repeat(pad)}`]: 0 } : {},
    peers: [],
  };
}

interface Setup {
  control: FakeControl;
  feed: LiveFeed;
  server: Server;
  url: string;
  origin: string;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(options: Partial<LiveFeedOptions> = {}, control = new FakeControl()): Promise<Setup> {
  const authenticate = (req: IncomingMessage) =>
    req.headers.authorization === `Bearer ${TOKEN}` || req.headers['sec-websocket-protocol']?.includes(`bearer.${TOKEN}`) === true ? { name: 'alice' } : null;
  const feed = new LiveFeed({ control, authenticate, ...options });
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => feed.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cleanup.push(async () => {
    await feed.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { control, feed, server, url: `ws://127.0.0.1:${port}/api/v1/live`, origin: `http://127.0.0.1:${port}` };
}

/** A real ws client that records every message with the time it arrived. */
class FeedClient {
  readonly messages: { at: number; message: FeedMessage }[] = [];
  readonly ws: WebSocket;
  pings = 0;
  private waiters: (() => void)[] = [];

  constructor(url: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on('message', (data: Buffer) => {
      this.messages.push({ at: Date.now(), message: JSON.parse(data.toString()) as FeedMessage });
      for (const w of this.waiters.splice(0)) w();
    });
    this.ws.on('ping', () => this.pings++);
    this.ws.on('error', () => undefined);
    cleanup.push(async () => {
      this.ws.terminate();
    });
  }

  static async open(url: string, headers?: Record<string, string>): Promise<FeedClient> {
    const client = new FeedClient(url, headers);
    await new Promise((resolve, reject) => {
      client.ws.once('open', resolve);
      client.ws.once('unexpected-response', (_req, res: IncomingMessage) => reject(new Error(`status ${res.statusCode}`)));
    });
    return client;
  }

  /** Waits for the first message (from index `from`) that matches. */
  async next<T extends FeedMessage['type']>(type: T, from = 0, timeoutMs = 2000): Promise<Extract<FeedMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find((m) => m.message.type === type);
      if (found !== undefined) return found.message as Extract<FeedMessage, { type: T }>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} message within ${timeoutMs} ms`);
      await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), sleep(left)]);
    }
  }

  of<T extends FeedMessage['type']>(type: T): { at: number; message: Extract<FeedMessage, { type: T }> }[] {
    return this.messages.filter((m) => m.message.type === type) as { at: number; message: Extract<FeedMessage, { type: T }> }[];
  }

  closed(): Promise<{ code: number }> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006 });
    return new Promise((resolve) => this.ws.once('close', (code: number) => resolve({ code })));
  }
}

/** The HTTP status the server answers an upgrade with (101 when it upgrades). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('upgrade', () => {
      resolve(101);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('live feed protocol', () => {
  it('sends a snapshot of every service and the last 100 events first', async () => {
    const control = new FakeControl();
    for (let i = 0; i < 130; i++) control.event(`before ${i}`);
    const s = await setup({}, control);
    s.control.setService('svc-a', 1);
    s.control.setService('svc-b', 2);
    const client = await FeedClient.open(s.url);
    const snapshot = await client.next('snapshot');
    expect(client.messages[0]?.message.type).toBe('snapshot');
    expect(snapshot.services.map((v) => v.name)).toEqual(['svc-a', 'svc-b']);
    expect(snapshot.events).toHaveLength(100);
    expect(snapshot.events[0]?.id).toBe(31);
    expect(snapshot.events.at(-1)?.id).toBe(130);
    expect(s.feed.clients).toBe(1);
  });

  it('forwards an event within 100 ms', async () => {
    const s = await setup();
    const client = await FeedClient.open(s.url);
    await client.next('snapshot');
    const sent = Date.now();
    const event = s.control.event('connect() failed');
    const got = await client.next('event');
    expect(Date.now() - sent).toBeLessThan(100);
    expect(got.event).toEqual(event);
  });

  it('coalesces 50 service changes in 100 ms into at most 2 changes messages per 200 ms, ending at the latest state', async () => {
    const s = await setup();
    for (let i = 0; i < 5; i++) s.control.setService(`svc-${i}`, 0);
    const client = await FeedClient.open(s.url);
    await client.next('snapshot');
    for (let n = 1; n <= 50; n++) {
      s.control.setService(`svc-${n % 5}`, n);
      await sleep(2);
    }
    await sleep(350);
    const changes = client.of('changes');
    expect(changes.length).toBeGreaterThanOrEqual(1);
    // Spacing is measured on the server's send time, so network jitter cannot fail the test.
    for (let i = 2; i < changes.length; i++) expect((changes[i]?.message.at ?? 0) - (changes[i - 2]?.message.at ?? 0)).toBeGreaterThanOrEqual(200);
    for (let i = 1; i < changes.length; i++) expect((changes[i]?.message.at ?? 0) - (changes[i - 1]?.message.at ?? 0)).toBeGreaterThanOrEqual(100);
    const latest = new Map<string, number>();
    for (const c of changes) for (const v of c.message.services) latest.set(v.name, v.requests);
    expect(Object.fromEntries(latest)).toEqual({ 'svc-0': 50, 'svc-1': 46, 'svc-2': 47, 'svc-3': 48, 'svc-4': 49 });
  });

  it('sends removed services by name, and a service removed then re-added as changed', async () => {
    const s = await setup();
    s.control.setService('gone', 1);
    s.control.setService('back', 1);
    const client = await FeedClient.open(s.url);
    await client.next('snapshot');
    await s.control.removeService('gone');
    await s.control.removeService('back');
    s.control.setService('back', 7);
    const changes = await client.next('changes');
    await sleep(150);
    const all = client.of('changes').map((c) => c.message);
    expect(all.flatMap((c) => c.removed)).toEqual(['gone']);
    expect(all.flatMap((c) => c.services).at(-1)).toMatchObject({ name: 'back', requests: 7 });
    expect(changes.type).toBe('changes');
  });

  it('sends heartbeats with a ping, and closes a client that misses two pongs', async () => {
    const s = await setup({ heartbeatMs: 100 });
    const live = await FeedClient.open(s.url);
    const silent = await FeedClient.open(s.url);
    await until(() => s.feed.clients === 2, 1000, 'two clients');
    // A paused client reads nothing, so it never answers a ping.
    silent.ws.pause();
    await until(() => s.feed.clients === 1, 1500, 'the silent client to be closed');
    expect(live.of('heartbeat').length).toBeGreaterThanOrEqual(2);
    expect(live.pings).toBeGreaterThanOrEqual(2);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('ignores small client messages and closes a client that sends more than 4 KiB', async () => {
    const s = await setup();
    const client = await FeedClient.open(s.url);
    await client.next('snapshot');
    client.ws.send('{"type":"hello"}');
    client.ws.send('not json at all');
    await sleep(50);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    client.ws.send('x'.repeat(4097));
    expect((await client.closed()).code).toBe(1009);
  });

  it('closes every client with 1001 on close() and stops listening to the control plane', async () => {
    const s = await setup();
    const clients = await Promise.all([FeedClient.open(s.url), FeedClient.open(s.url), FeedClient.open(s.url)]);
    const closed = clients.map((c) => c.closed());
    await s.feed.close();
    expect((await Promise.all(closed)).map((c) => c.code)).toEqual([1001, 1001, 1001]);
    expect(s.feed.clients).toBe(0);
    expect(s.control.subscribers).toBe(0);
    expect(await upgradeStatus(s.url, { authorization: `Bearer ${TOKEN}` })).toBe(503);
  });
});

describe('live feed upgrade checks', () => {
  it('refuses a missing or wrong token with 401', async () => {
    const s = await setup();
    expect(await upgradeStatus(s.url, {})).toBe(401);
    expect(await upgradeStatus(s.url, { authorization: 'Bearer wrong' })).toBe(401);
    expect(s.feed.clients).toBe(0);
  });

  it('refuses a foreign Origin with 403, even with a valid token', async () => {
    const s = await setup({ allowedOrigins: ['https://dashboard.example'] });
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(await upgradeStatus(s.url, { ...auth, origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(s.url, { ...auth, origin: 'null' })).toBe(403);
    expect(await upgradeStatus(s.url, { ...auth, origin: s.origin.replace('127.0.0.1', '127.0.0.2') })).toBe(403);
    // DNS rebinding: a page on a name resolving to the admin address sends that name as Origin and Host.
    const port = new URL(s.origin).port;
    expect(await upgradeStatus(s.url, { ...auth, origin: `http://evil.example:${port}`, host: `evil.example:${port}` })).toBe(403);
  });

  it('accepts same-origin, an allowed origin, and no Origin at all', async () => {
    const s = await setup({ allowedOrigins: ['https://dashboard.example'] });
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(await upgradeStatus(s.url, { ...auth, origin: s.origin })).toBe(101);
    expect(await upgradeStatus(s.url, { ...auth, origin: 'https://dashboard.example' })).toBe(101);
    expect(await upgradeStatus(s.url, auth)).toBe(101);
  });

  it('takes a browser token as subprotocol and answers with the other protocol offered, not the token', async () => {
    const s = await setup();
    const ws = new WebSocket(s.url, ['podgate.v1', `bearer.${TOKEN}`], { headers: { origin: s.origin } });
    cleanup.push(async () => void ws.terminate());
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    expect(ws.protocol).toBe('podgate.v1');
  });

  it('refuses other paths with 404', async () => {
    const s = await setup();
    expect(await upgradeStatus(s.url.replace('/live', '/other'), { authorization: `Bearer ${TOKEN}` })).toBe(404);
  });
});

describe('live feed with slow clients', () => {
  it('keeps each of 100 slow clients within maxBufferedBytes plus one message and resyncs one that resumes', async () => {
    const maxBufferedBytes = 256 * 1024;
    const s = await setup({ maxBufferedBytes, maxConnections: 200, maxConnectionsPerToken: 200 });
    for (let i = 0; i < 20; i++) s.control.setService(`svc-${i}`, 0);
    const fast = await FeedClient.open(s.url);
    const slow: FeedClient[] = [];
    for (let i = 0; i < 100; i += 25) slow.push(...(await Promise.all(Array.from({ length: 25 }, () => FeedClient.open(s.url)))));
    await until(() => slow.every((c) => c.messages.length === 1), 2000, 'every snapshot');
    for (const c of slow) c.ws.pause();

    // 2000 changes: 1600 events of ~4 KiB (to get past the kernel's ~4 MiB loopback buffers) and 400 service changes.
    const detail = 'd'.repeat(4096);
    const largestMessage = Buffer.byteLength(JSON.stringify({ type: 'event', event: s.control.event(detail) })) + 1024;
    let largestSeen = 0;
    let sawAllStale = false;
    for (let batch = 0; batch < 40; batch++) {
      for (let i = 0; i < 40; i++) s.control.event(detail);
      for (let i = 0; i < 10; i++) s.control.setService(`svc-${i}`, batch * 10 + i);
      const stats = s.feed.stats();
      largestSeen = Math.max(largestSeen, stats.largestBufferedBytes);
      sawAllStale ||= stats.stale === 100;
      await sleep(5);
    }
    expect(sawAllStale).toBe(true);
    expect(largestSeen).toBeLessThanOrEqual(maxBufferedBytes + largestMessage);
    expect(s.feed.stats().bufferedBytes).toBeLessThanOrEqual(100 * (maxBufferedBytes + largestMessage));

    // The fast client missed nothing.
    await until(() => fast.of('event').length === 1601, 5000, 'every event at the fast client');
    expect(fast.of('snapshot')).toHaveLength(1);

    // A slow client that reads again drains, then starts over from a fresh snapshot.
    const resumed = slow[0] as FeedClient;
    resumed.ws.resume();
    const resync = await resumed.next('snapshot', 1, 5000);
    expect(resync.services.find((v) => v.name === 'svc-9')?.requests).toBe(399);
    expect(resync.events.at(-1)?.id).toBe(1601);
    expect(s.feed.stats().stale).toBe(99);
    expect(s.feed.clients).toBe(101);
  });

  it('closes a client that stays over maxBufferedBytes for maxStaleMs', async () => {
    const s = await setup({ maxBufferedBytes: 64 * 1024, maxStaleMs: 300 });
    const slow = await FeedClient.open(s.url);
    await slow.next('snapshot');
    slow.ws.pause();
    const detail = 'd'.repeat(4096);
    for (let i = 0; i < 1500 && s.feed.stats().stale === 0; i++) s.control.event(detail);
    expect(s.feed.stats().stale).toBe(1);
    await until(() => s.feed.clients === 0, 2000, 'the stuck client to be closed');
  });
});

describe('originAllowed', () => {
  // No socket is opened here: 192.0.2.5 (RFC 5737 TEST-NET-1, never routed) stands for a
  // non-loopback address the admin server would be bound to.
  /** An upgrade request as it arrives on a socket bound to localAddress:localPort. */
  const req = (origin: string | undefined, localAddress: string, localPort = 9901): IncomingMessage =>
    ({ headers: origin === undefined ? {} : { origin }, socket: { localAddress, localPort } }) as unknown as IncomingMessage;
  const none = new Set<string>();

  it('takes the loopback names as one when the admin address is loopback', () => {
    for (const [adminHost, local] of [
      ['127.0.0.1', '127.0.0.1'],
      ['::1', '::1'],
      ['localhost', '127.0.0.1'],
      ['localhost', '::1'],
      [undefined, '::ffff:127.0.0.1'],
    ] as const) {
      for (const origin of ['http://localhost:9901', 'http://127.0.0.1:9901', 'http://[::1]:9901']) {
        expect(originAllowed(req(origin, local), none, adminHost), `${origin} on ${adminHost ?? '-'} via ${local}`).toBe(true);
      }
      expect(originAllowed(req('http://localhost:9902', local), none, adminHost)).toBe(false);
      expect(originAllowed(req('http://rebind.example:9901', local), none, adminHost)).toBe(false);
    }
  });

  it('takes the configured name and the address the request came in on, and no other name', () => {
    expect(originAllowed(req('http://podgate-admin.internal:9901', '192.0.2.5'), none, 'podgate-admin.internal')).toBe(true);
    expect(originAllowed(req('http://PODGATE-ADMIN.internal:9901', '192.0.2.5'), none, 'podgate-admin.internal')).toBe(true);
    expect(originAllowed(req('http://192.0.2.5:9901', '192.0.2.5'), none, 'podgate-admin.internal')).toBe(true);
    expect(originAllowed(req('http://other.internal:9901', '192.0.2.5'), none, 'podgate-admin.internal')).toBe(false);
    // Not on loopback: localhost would be another listener, on the browser's machine.
    expect(originAllowed(req('http://localhost:9901', '192.0.2.5'), none, 'podgate-admin.internal')).toBe(false);
    expect(originAllowed(req('http://127.0.0.1:9901', '192.0.2.5'), none, '192.0.2.5')).toBe(false);
  });

  it('on a wildcard listener, takes the IP address a browser connected to, never the wildcard itself', () => {
    expect(originAllowed(req('http://192.0.2.5:9901', '192.0.2.5'), none, '0.0.0.0')).toBe(true);
    expect(originAllowed(req('http://192.0.2.5:9901', '::ffff:192.0.2.5'), none, '::')).toBe(true);
    expect(originAllowed(req('http://[fd00::5]:9901', 'fd00::5'), none, '::')).toBe(true);
    expect(originAllowed(req('http://0.0.0.0:9901', '192.0.2.5'), none, '0.0.0.0')).toBe(false);
    expect(originAllowed(req('http://[::]:9901', '192.0.2.5'), none, '::')).toBe(false);
    expect(originAllowed(req('http://podgate.example.com:9901', '192.0.2.5'), none, '0.0.0.0')).toBe(false);
    // A browser on the admin host itself, through loopback.
    expect(originAllowed(req('http://localhost:9901', '127.0.0.1'), none, '0.0.0.0')).toBe(true);
  });

  it('takes allowedOrigins exactly, and refuses other schemes, odd spellings and opaque origins', () => {
    const allowed = normalizeOrigins(['https://ops.example.com', 'http://dash.example.com:8080']);
    expect(originAllowed(req('https://ops.example.com', '192.0.2.5'), allowed, '0.0.0.0')).toBe(true);
    expect(originAllowed(req('http://dash.example.com:8080', '192.0.2.5'), allowed, '0.0.0.0')).toBe(true);
    expect(originAllowed(req('http://ops.example.com', '192.0.2.5'), allowed, '0.0.0.0')).toBe(false);
    expect(originAllowed(req('https://127.0.0.1:9901', '127.0.0.1'), none, '127.0.0.1')).toBe(false);
    expect(originAllowed(req('http://user@127.0.0.1:9901', '127.0.0.1'), none, '127.0.0.1')).toBe(false);
    expect(originAllowed(req('http://127.0.0.1:9901/', '127.0.0.1'), none, '127.0.0.1')).toBe(false);
    expect(originAllowed(req('null', '127.0.0.1'), none, '127.0.0.1')).toBe(false);
    expect(originAllowed(req('file://', '127.0.0.1'), none, '127.0.0.1')).toBe(false);
  });

  it('lets a request without Origin through (not a browser)', () => {
    expect(originAllowed(req(undefined, '192.0.2.5'), none, '0.0.0.0')).toBe(true);
  });
});
