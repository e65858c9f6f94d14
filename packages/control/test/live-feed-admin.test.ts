import type { ServiceConfig } from '@podgate/protocol';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ControlPlane, LIVE_FEED_PATH, LiveFeed, startAdminServer, TokenAuth, type AdminServer, type LiveFeedOptions } from '../src/index.js';
import { proxyConfig, serviceConfig } from '@podgate/lab';

/*
 * The live feed on a real admin server, wired as podgate wires it (the server's 'upgrade' event,
 * TokenAuth.authenticateUpgrade), with real ws clients and raw HTTP requests: where a token may
 * travel, which pages may open the feed, and how many connections a token may hold.
 */

const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789ab';
const auth = new TokenAuth([
  { name: 'olivia', token: OPERATOR, role: 'operator' },
  { name: 'victor', token: VIEWER, role: 'viewer' },
]);

interface Setup {
  control: ControlPlane;
  feed: LiveFeed;
  admin: AdminServer;
  port: number;
  /** ws://127.0.0.1:port/api/v1/live */
  url: string;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(options: Partial<LiveFeedOptions> = {}, host = '127.0.0.1'): Promise<Setup> {
  const control = await ControlPlane.start({
    config: proxyConfig([]),
    parseService: (input: unknown): ServiceConfig => {
      const i = input as { name: string; port: number };
      return serviceConfig(i.name, i.port);
    },
    logger: pino({ level: 'silent' }),
  });
  const feed = new LiveFeed({ control, authenticate: (req) => auth.authenticateUpgrade(req, LIVE_FEED_PATH), adminHost: host, ...options });
  const admin = await startAdminServer({
    control,
    auth,
    host,
    port: 0,
    registerFeed: (app) => app.server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => feed.handleUpgrade(req, socket, head)),
  });
  cleanup.push(async () => {
    await feed.close();
    await admin.close();
    await control.close();
  });
  const port = Number(admin.address.slice(admin.address.lastIndexOf(':') + 1));
  return { control, feed, admin, port, url: `ws://127.0.0.1:${port}${LIVE_FEED_PATH}` };
}

/** One raw HTTP request with exactly these headers: its status (101 for an upgrade) and body. */
function raw(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method,
      path,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) },
    });
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.once('error', reject);
    req.end(body);
  });
}

interface Opened {
  ws: WebSocket;
  messages: string[];
  /** The close code and reason, once closed. */
  closed: Promise<{ code: number; reason: string }>;
}

/** A real ws client: resolves once the handshake is answered, with the status (101 when it upgraded). */
function open(url: string, o: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<{ status: number; client: Opened }> {
  const ws = new WebSocket(url, o.protocols ?? [], { headers: o.headers ?? { authorization: `Bearer ${VIEWER}` } });
  const messages: string[] = [];
  ws.on('message', (data: Buffer) => messages.push(data.toString()));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
  );
  cleanup.push(async () => void ws.terminate());
  const client = { ws, messages, closed };
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume();
      ws.terminate();
      resolve({ status: res.statusCode ?? 0, client });
    });
    ws.once('upgrade', () => resolve({ status: 101, client }));
    ws.once('error', () => resolve({ status: 0, client }));
  });
}

/** Opens and waits for the snapshot: a client the feed holds. */
async function held(url: string, headers?: Record<string, string>): Promise<Opened> {
  const { status, client } = await open(url, { headers });
  expect(status).toBe(101);
  await until(() => client.messages.length > 0, 2000, 'the snapshot');
  expect(JSON.parse(client.messages[0] ?? '{}')).toMatchObject({ type: 'snapshot' });
  return client;
}

/** The promise's value, or a failure naming what did not happen within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`no ${what} within ${ms} ms`)))]);
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const service = JSON.stringify({ name: 'sneaky', dnsName: 'sneaky.local', port: 80 });

describe('tokens outside the Authorization header', () => {
  it('never open a REST route, whatever Upgrade header comes with them', async () => {
    const s = await setup();
    const attempts: [string, string, Record<string, string>][] = [
      ['POST', `/api/v1/services?token=${OPERATOR}`, { upgrade: 'websocket' }],
      ['POST', '/api/v1/services', { upgrade: 'websocket', 'sec-websocket-protocol': `podgate.v1, bearer.${OPERATOR}` }],
      ['POST', `/api/v1/services?token=${OPERATOR}`, { upgrade: 'websocket', connection: 'keep-alive' }],
    ];
    for (const [method, path, headers] of attempts) {
      const res = await raw(s.port, method, path, headers, service);
      expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
      expect(JSON.parse(res.body)).toEqual({ error: 'PODGATE_UNAUTHORIZED', message: 'a valid bearer token is required' });
    }
    expect((await raw(s.port, 'GET', `/api/v1/services?token=${VIEWER}`, { upgrade: 'websocket' })).status).toBe(401);
    expect((await raw(s.port, 'GET', `/metrics?token=${VIEWER}`, { upgrade: 'websocket', 'sec-websocket-protocol': `bearer.${VIEWER}` })).status).toBe(401);
    // With `Connection: upgrade` node hands it to the feed, which serves one path only.
    expect((await raw(s.port, 'POST', `/api/v1/services?token=${OPERATOR}`, { upgrade: 'websocket', connection: 'Upgrade' }, service)).status).toBe(404);
    expect(s.control.getService('sneaky')).toBeNull();
    // The header still works, with or without an Upgrade header.
    expect((await raw(s.port, 'GET', '/api/v1/services', { authorization: `Bearer ${VIEWER}`, upgrade: 'websocket' })).status).toBe(200);
  });

  it('open the feed on a real upgrade only: GET, Connection: upgrade, Upgrade: websocket, its path', async () => {
    const s = await setup();
    const key = { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' };
    const real = { connection: 'keep-alive, Upgrade', upgrade: 'WebSocket', ...key };
    expect((await raw(s.port, 'GET', `${LIVE_FEED_PATH}?token=${VIEWER}`, real)).status).toBe(101);
    expect((await raw(s.port, 'GET', LIVE_FEED_PATH, { ...real, 'sec-websocket-protocol': `podgate.v1, bearer.${VIEWER}` })).status).toBe(101);
    // Not a real upgrade: the token does not count (401 before anything else is looked at).
    expect((await raw(s.port, 'POST', `${LIVE_FEED_PATH}?token=${VIEWER}`, real)).status).toBe(401);
    expect((await raw(s.port, 'GET', `${LIVE_FEED_PATH}?token=${VIEWER}`, { ...real, upgrade: 'websocket, h2c' })).status).toBe(401);
    // Without Connection: upgrade it is a plain request: no route, and never an upgrade.
    expect((await raw(s.port, 'GET', `${LIVE_FEED_PATH}?token=${VIEWER}`, { upgrade: 'websocket', ...key })).status).toBe(404);
    expect(s.feed.stats().clients).toBe(0);
    // And a browser's way in works end to end.
    const { status, client } = await open(s.url, { headers: { origin: `http://127.0.0.1:${s.port}` }, protocols: ['podgate.v1', `bearer.${VIEWER}`] });
    expect(status).toBe(101);
    expect(client.ws.protocol).toBe('podgate.v1');
  });
});

describe('the origin check', () => {
  it('refuses a page on another name that resolves to the admin address (DNS rebinding)', async () => {
    const s = await setup();
    const auth = { authorization: `Bearer ${VIEWER}` };
    // What a browser sends from http://rebind.example:<port>/ once that name points at 127.0.0.1.
    const rebound = { ...auth, origin: `http://rebind.example:${s.port}`, host: `rebind.example:${s.port}` };
    expect((await open(s.url, { headers: rebound })).status).toBe(403);
    expect((await open(s.url, { headers: { ...auth, origin: `http://127.0.0.1.nip.io:${s.port}`, host: `127.0.0.1.nip.io:${s.port}` } })).status).toBe(403);
    // The admin address, but another port or scheme: another origin.
    expect((await open(s.url, { headers: { ...auth, origin: `http://127.0.0.1:${s.port + 1}` } })).status).toBe(403);
    expect((await open(s.url, { headers: { ...auth, origin: `https://127.0.0.1:${s.port}` } })).status).toBe(403);
    expect(s.feed.stats().clients).toBe(0);
  });

  it('accepts the dashboard the admin server serves, by any loopback name, an allowed origin, and no Origin', async () => {
    const s = await setup({ allowedOrigins: ['https://ops.example.com'] });
    const auth = { authorization: `Bearer ${VIEWER}` };
    // The page at http://<admin.address>/ sends that as Origin; on loopback localhost and [::1] are the same listener.
    for (const origin of [
      `http://${s.admin.address}`,
      `http://localhost:${s.port}`,
      `http://LOCALHOST:${s.port}`,
      `http://[::1]:${s.port}`,
      `http://127.0.0.1:${s.port}`,
    ]) {
      expect((await open(s.url, { headers: { ...auth, origin, host: new URL(origin).host } })).status, origin).toBe(101);
    }
    expect((await open(s.url, { headers: { ...auth, origin: 'https://ops.example.com' } })).status).toBe(101);
    expect((await open(s.url, { headers: auth })).status).toBe(101);
  });

  it('accepts the configured admin name, which the Host header cannot stand in for', async () => {
    // admin.listen: localhost:<port>: the configured name is the admin address; a page on another name is not.
    const s = await setup({}, 'localhost');
    const auth = { authorization: `Bearer ${VIEWER}` };
    const url = `ws://localhost:${s.port}${LIVE_FEED_PATH}`;
    expect((await open(url, { headers: { ...auth, origin: `http://localhost:${s.port}` } })).status).toBe(101);
    expect((await open(url, { headers: { ...auth, origin: `http://admin.rebind.example:${s.port}`, host: `admin.rebind.example:${s.port}` } })).status).toBe(
      403,
    );
  });
});

describe('connection limits', () => {
  it('holds at most maxConnectionsPerToken for one token and refuses the next with 1013 naming the limit', async () => {
    const s = await setup({ maxConnections: 10, maxConnectionsPerToken: 2 });
    const viewerA = await held(s.url);
    await held(s.url);
    const { status, client: third } = await open(s.url);
    // The handshake completes (a browser could not read a refused one's status), then the close says why.
    expect(status).toBe(101);
    expect(await within(third.closed, 2000, 'close')).toEqual({
      code: 1013,
      reason: 'too many live feed connections for this token (admin.feed.maxConnectionsPerToken: 2)',
    });
    expect(third.messages).toEqual([]);
    expect(s.feed.clientsOf('victor')).toBe(2);
    // Another token still gets in.
    await held(s.url, { authorization: `Bearer ${OPERATOR}` });
    // Once one closes, the token may open one again.
    viewerA.ws.close();
    await until(() => s.feed.clientsOf('victor') === 1, 2000, 'the close to be counted');
    await held(s.url);
  });

  it('holds at most maxConnections in all and refuses the next with 1013 naming that limit', async () => {
    const s = await setup({ maxConnections: 3, maxConnectionsPerToken: 2 });
    await held(s.url);
    await held(s.url);
    await held(s.url, { authorization: `Bearer ${OPERATOR}` });
    const { client } = await open(s.url, { headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(await within(client.closed, 2000, 'close')).toEqual({ code: 1013, reason: 'too many live feed connections (admin.feed.maxConnections: 3)' });
    expect(s.feed.stats().clients).toBe(3);
  });

  it('keeps a viewer token that opens 300 connections to the per-token limit, with nothing buffered for the rest', async () => {
    const s = await setup({ maxConnections: 64, maxConnectionsPerToken: 16 });
    const opened: { status: number; client: Opened }[] = [];
    for (let batch = 0; batch < 6; batch++) {
      opened.push(...(await Promise.all(Array.from({ length: 50 }, () => open(s.url)))));
    }
    expect(opened.every((o) => o.status === 101)).toBe(true);
    const settled = (o: { client: Opened }): boolean => o.client.messages.length > 0 || o.client.ws.readyState === WebSocket.CLOSED;
    await until(() => opened.every(settled), 5000, 'every connection to be held or closed');
    expect(s.feed.stats().clients).toBe(16);
    expect(s.feed.clientsOf('victor')).toBe(16);
    // 300 handshakes, 16 held; every other one was closed with 1013 and never got a snapshot.
    const refused = await Promise.all(opened.filter((o) => o.client.messages.length === 0).map((o) => o.client.closed));
    expect(refused).toHaveLength(300 - 16);
    expect(new Set(refused.map((r) => r.code))).toEqual(new Set([1013]));
    await until(() => s.feed.stats().refusing === 0, 2000, 'the refused connections to be gone');
    // The operator is not locked out by the viewer's flood.
    await held(s.url, { authorization: `Bearer ${OPERATOR}` });
  });
});
