import { LabCluster, LabDnsServer } from '@podgate/lab';
import type { ApiError, EventList, PeerView, PodgateConfig, ServiceList, ServiceView } from '@podgate/protocol';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAdminApp,
  ControlPlane,
  PodgateMetrics,
  startAdminServer,
  startInProcessDataPlane,
  parseService,
  TokenAuth,
  type AdminServer,
} from '../src/index.js';
import type { ProxyServer } from '@podgate/proxy';
import { proxyConfig, serviceConfig } from '@podgate/lab';

/*
 * The admin API's contract against a real control plane: lab pods behind lab DNS, an in-process
 * data plane, the config file's validator for added services. Every test runs twice, through
 * inject() and over a loopback socket with undici.
 */

const NAME = 'admin.lab.svc.cluster.local';
const PORT = 18316;
const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789ab';
const logger = pino({ level: 'silent' });

let dns: LabDnsServer;
let cluster: LabCluster;
let control: ControlPlane;
let proxy: ProxyServer;
let metrics: PodgateMetrics;
let app: FastifyInstance;
let server: AdminServer;
let dispatcher: Agent;

function config(): PodgateConfig {
  const c = proxyConfig([serviceConfig('svc', PORT, { dnsName: NAME })]);
  c.dns = { ...c.dns, nameservers: [dns.nameserver], minRefreshMs: 200, maxRefreshMs: 1000 };
  return c;
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  dns = await LabDnsServer.start();
  cluster = await LabCluster.start({ dns, dnsName: NAME, replicas: 3, ttl: 1, port: PORT, subnet: 216 });
  control = await ControlPlane.start({ config: config(), parseService, logger });
  ({ proxy } = startInProcessDataPlane(control, config(), logger));
  await proxy.listen();
  metrics = new PodgateMetrics(control);
  const auth = new TokenAuth([
    { name: 'alice', token: OPERATOR, role: 'operator' },
    { name: 'victor', token: VIEWER, role: 'viewer' },
  ]);
  app = buildAdminApp({ control, auth, metrics, logger });
  server = await startAdminServer({ control, auth, metrics, logger, host: '127.0.0.1', port: 0 });
  dispatcher = new Agent();
  await until(() => control.ready() && control.getService('svc')?.peers.length === 3);
});

afterAll(async () => {
  await dispatcher.destroy();
  await server.close();
  await app.close();
  metrics.close();
  await proxy.close(100);
  await control.close();
  await cluster.close();
  await dns.close();
});

// ---- two ways to call ------------------------------------------------------------------------

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = ApiError>(): T;
}

interface CallOptions {
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, as `contentType` (default application/json). */
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

type Call = (method: string, path: string, options?: CallOptions) => Promise<Reply>;

function parts(options: CallOptions): { headers: Record<string, string>; payload: string | Buffer | undefined } {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  return { headers, payload };
}

const toReply = (status: number, headers: Reply['headers'], text: string): Reply => ({
  status,
  headers,
  text,
  json: <T>() => JSON.parse(text) as T,
});

const transports: [string, () => Call][] = [
  [
    'inject',
    () =>
      async (method, path, options = {}) => {
        const { headers, payload } = parts(options);
        const res = await app.inject({ method: method as 'GET', url: path, headers, ...(payload === undefined ? {} : { payload }) });
        return toReply(res.statusCode, res.headers as Reply['headers'], res.body);
      },
  ],
  [
    'socket',
    () =>
      async (method, path, options = {}) => {
        const { headers, payload } = parts(options);
        const res = await request(`http://${server.address}${path}`, { method: method as 'GET', headers, body: payload, dispatcher });
        return toReply(res.statusCode, res.headers, await res.body.text());
      },
  ],
];

const peerPath = (service: string, address: string, action: string): string => `/api/v1/services/${service}/peers/${encodeURIComponent(address)}/${action}`;

const addressOf = (i: number): string => {
  const pod = cluster.pods[i];
  if (pod === undefined) throw new Error(`no pod ${i}`);
  return pod.address;
};

// ---- the table of bad bodies ----------------------------------------------------------------

const valid = { name: 'extra', dnsName: NAME, port: PORT, routes: [{ pathPrefix: '/extra' }] };

/** [what is wrong, body, the field the 400 must name]. */
const badBodies: [string, unknown, string][] = [
  ['a list instead of an object', [valid], 'body'],
  ['a string instead of an object', 'extra', 'body'],
  ['JSON null', null, 'body'],
  ['no name', { dnsName: NAME, port: PORT }, 'body.name'],
  ['no dnsName', { name: 'extra', port: PORT }, 'body.dnsName'],
  ['no port', { name: 'extra', dnsName: NAME }, 'body.port'],
  ['a number as name', { ...valid, name: 42 }, 'body.name'],
  ['an empty name', { ...valid, name: '' }, 'body.name'],
  ['a name over 63 characters', { ...valid, name: 'a'.repeat(64) }, 'body.name'],
  ['an empty dnsName', { ...valid, dnsName: '' }, 'body.dnsName'],
  ['port 0', { ...valid, port: 0 }, 'body.port'],
  ['port 70000', { ...valid, port: 70_000 }, 'body.port'],
  ['port "80" (a string)', { ...valid, port: '80' }, 'body.port'],
  ['port 80.5', { ...valid, port: 80.5 }, 'body.port'],
  ['an unknown key', { ...valid, colour: 'blue' }, 'body.colour'],
  ['routes as a string', { ...valid, routes: '/extra' }, 'body.routes'],
  ['an empty routes list', { ...valid, routes: [] }, 'body.routes'],
  ['a route without pathPrefix', { ...valid, routes: [{ host: 'a.example' }] }, 'body.routes.0.pathPrefix'],
  ['an unknown key in a route', { ...valid, routes: [{ pathPrefix: '/x', weight: 2 }] }, 'body.routes.0.weight'],
  ['a pathPrefix without a leading slash', { ...valid, routes: [{ pathPrefix: 'extra' }] }, 'body.routes.0.pathPrefix'],
  ['an unknown algorithm', { ...valid, algorithm: 'random' }, 'body.algorithm'],
  ['retry.tries as a string', { ...valid, retry: { tries: '3' } }, 'body.retry.tries'],
  ['an unknown retry.on condition', { ...valid, retry: { on: ['error', 'sometimes'] } }, 'body.retry.on.1'],
  ['a boolean timeout', { ...valid, timeouts: { connect: true } }, 'body.timeouts.connect'],
  ['a timeout in an unknown unit', { ...valid, timeouts: { connect: '2 parsecs' } }, 'body.timeouts.connect'],
  ['an unknown timeout', { ...valid, timeouts: { forever: '1s' } }, 'body.timeouts.forever'],
  // The config validator reports a bad service name at the service's own path, so `body`, not `body.name`.
  ['a name that is not an RFC 1123 label', { ...valid, name: 'Bad_Name' }, 'body.name'],
];

/** [what is wrong, raw body, content type, status, field]. */
const badPayloads: [string, string | Buffer, string, number, string | undefined][] = [
  ['JSON cut short', '{"name": "extra", "port":', 'application/json', 400, 'body'],
  ['an empty JSON body', '', 'application/json', 400, 'body'],
  ['a __proto__ key', '{"name":"extra","dnsName":"x","port":80,"__proto__":{"admin":true}}', 'application/json', 400, 'body'],
  ['a body over 64 KiB', JSON.stringify({ ...valid, dnsName: 'x'.repeat(70 * 1024) }), 'application/json', 413, undefined],
  ['a text/plain body', 'name=extra', 'text/plain', 415, undefined],
  ['a form body', 'name=extra&port=80', 'application/x-www-form-urlencoded', 415, undefined],
];

describe.each(transports)('admin API through %s', (_transport, makeCall) => {
  let call: Call;
  beforeAll(() => {
    call = makeCall();
  });

  describe('services', () => {
    it('lists the config file service with its peers and DNS status', async () => {
      const res = await call('GET', '/api/v1/services', { token: VIEWER });
      expect(res.status).toBe(200);
      const list = res.json<ServiceList>();
      expect(list.services.map((s) => s.name)).toContain('svc');
      const svc = list.services.find((s) => s.name === 'svc');
      expect(svc).toMatchObject({ source: 'config', dnsName: NAME, port: PORT, routes: [{ pathPrefix: '/' }] });
      expect(svc?.peers.map((p) => p.address).sort()).toEqual(cluster.pods.map((p) => p.address).sort());
      expect(svc?.dns.lastSuccessAt).toEqual(expect.any(Number));
    });

    it('returns one service by name', async () => {
      const res = await call('GET', '/api/v1/services/svc', { token: VIEWER });
      expect(res.status).toBe(200);
      expect(res.json<ServiceView>()).toMatchObject({ name: 'svc', source: 'config' });
    });

    it('answers 404 with an ApiError for an unknown service', async () => {
      const res = await call('GET', '/api/v1/services/nope', { token: VIEWER });
      expect(res.status).toBe(404);
      expect(res.json()).toEqual({ error: 'PODGATE_NOT_FOUND', message: 'no service named "nope"' });
    });

    it('adds a service that resolves at once, lists it, and removes it', async () => {
      const added = await call('POST', '/api/v1/services', { token: OPERATOR, body: valid });
      expect(added.status).toBe(201);
      expect(added.json<ServiceView>()).toMatchObject({ name: 'extra', source: 'api', port: PORT, routes: [{ pathPrefix: '/extra' }] });
      await until(() => control.getService('extra')?.peers.length === 3);
      const got = await call('GET', '/api/v1/services/extra', { token: VIEWER });
      expect(got.json<ServiceView>().peers).toHaveLength(3);

      const removed = await call('DELETE', '/api/v1/services/extra', { token: OPERATOR });
      expect(removed.status).toBe(204);
      expect(removed.text).toBe('');
      expect((await call('GET', '/api/v1/services/extra', { token: VIEWER })).status).toBe(404);
      const again = await call('DELETE', '/api/v1/services/extra', { token: OPERATOR });
      expect(again.status).toBe(404);
      expect(again.json().error).toBe('PODGATE_NOT_FOUND');

      const events = control.events(0, 1000).events.filter((e) => e.service === 'extra' && e.actor !== undefined);
      expect(events.map((e) => [e.type, e.actor])).toEqual(
        expect.arrayContaining([
          ['service_added', 'alice'],
          ['service_removed', 'alice'],
        ]),
      );
    });

    it('refuses with 409 to remove a service from the config file', async () => {
      const res = await call('DELETE', '/api/v1/services/svc', { token: OPERATOR });
      expect(res.status).toBe(409);
      expect(res.json()).toMatchObject({ error: 'PODGATE_CONFLICT', message: expect.stringContaining('config file') });
      expect(control.getService('svc')).not.toBeNull();
    });

    it('refuses with 409 a service whose route another service claims', async () => {
      const res = await call('POST', '/api/v1/services', { token: OPERATOR, body: { name: 'clash', dnsName: NAME, port: PORT } });
      expect(res.status).toBe(409);
      expect(res.json()).toMatchObject({ error: 'PODGATE_CONFLICT', field: 'body.routes' });
      expect(control.getService('clash')).toBeNull();
    });

    it('refuses with 409 a service whose name is taken', async () => {
      const res = await call('POST', '/api/v1/services', { token: OPERATOR, body: { ...valid, name: 'svc' } });
      expect(res.status).toBe(409);
      expect(res.json()).toMatchObject({ error: 'PODGATE_CONFLICT', field: 'body.name' });
    });
  });

  describe('peers', () => {
    it('drains, ejects and restores a peer, each repeatable, recording who did it', async () => {
      const address = addressOf(0);
      const drained = await call('POST', peerPath('svc', address, 'drain'), { token: OPERATOR });
      expect(drained.status).toBe(200);
      expect(drained.json<PeerView>()).toMatchObject({ address, hold: 'drain' });
      expect(['draining', 'drained']).toContain(drained.json<PeerView>().state);
      expect((await call('POST', peerPath('svc', address, 'drain'), { token: OPERATOR })).status).toBe(200);

      // An ejection by hand counts among the peer's ejections (it used to show the automatic multiplier, 0).
      const ejectionsBefore = control.getService('svc')?.peers.find((p) => p.address === address)?.ejections ?? -1;
      const ejected = await call('POST', peerPath('svc', address, 'eject'), { token: OPERATOR });
      expect(ejected.status).toBe(200);
      expect(ejected.json<PeerView>()).toMatchObject({ address, state: 'ejected', hold: 'eject', ejections: ejectionsBefore + 1 });

      const restored = await call('POST', peerPath('svc', address, 'restore'), { token: OPERATOR });
      expect(restored.status).toBe(200);
      expect(restored.json<PeerView>()).toMatchObject({ address, state: 'active', hold: null });
      expect((await call('POST', peerPath('svc', address, 'restore'), { token: OPERATOR })).json<PeerView>().state).toBe('active');

      const actions = control.events(0, 1000).events.filter((e) => e.type === 'operator_action' && e.address === address);
      expect(actions.map((e) => e.actor)).toEqual(expect.arrayContaining(['alice']));
      expect(actions.map((e) => e.detail)).toEqual(expect.arrayContaining([`drain ${address}`, `eject ${address}`, `restore ${address}`]));
    });

    it('answers 404 for an unknown peer, an unknown service, and an IPv6 address nobody has', async () => {
      const unknownPeer = await call('POST', peerPath('svc', '127.216.9.9:1', 'drain'), { token: OPERATOR });
      expect(unknownPeer.status).toBe(404);
      expect(unknownPeer.json().error).toBe('PODGATE_NOT_FOUND');
      expect((await call('POST', peerPath('nope', addressOf(0), 'drain'), { token: OPERATOR })).status).toBe(404);
      const v6 = await call('POST', peerPath('svc', '[::1]:80', 'eject'), { token: OPERATOR });
      expect(v6.status).toBe(404);
      // The encoded address reached the control plane decoded.
      expect(v6.json().message).toContain('[::1]:80');
    });

    it('accepts an action sent with a JSON content type and no body, as fetch() may send it', async () => {
      const res = await call('POST', peerPath('svc', addressOf(2), 'restore'), { token: OPERATOR, raw: '' });
      expect(res.status, res.text).toBe(200);
      expect(res.json<PeerView>().state).toBe('active');
    });

    it('answers 400 naming params.action for an action that is not drain, eject or restore', async () => {
      const res = await call('POST', peerPath('svc', addressOf(0), 'reboot'), { token: OPERATOR });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'PODGATE_INVALID', message: 'params.action: must be one of drain, eject, restore', field: 'params.action' });
    });
  });

  describe('events', () => {
    it('pages through events with since and limit', async () => {
      await call('POST', peerPath('svc', addressOf(1), 'drain'), { token: OPERATOR });
      await call('POST', peerPath('svc', addressOf(1), 'restore'), { token: OPERATOR });
      const all = (await call('GET', '/api/v1/events?since=0&limit=1000', { token: VIEWER })).json<EventList>();
      expect(all.events.length).toBeGreaterThanOrEqual(2);
      const first = await call('GET', '/api/v1/events?since=0&limit=1', { token: VIEWER });
      expect(first.status).toBe(200);
      const page = first.json<EventList>();
      expect(page.events).toHaveLength(1);
      const rest = (await call('GET', `/api/v1/events?since=${page.next}`, { token: VIEWER })).json<EventList>();
      expect(rest.events[0]?.id).toBeGreaterThan(page.events[0]?.id ?? Infinity);
      const last = all.events.at(-1);
      expect((await call('GET', `/api/v1/events?since=${last?.id ?? 0}`, { token: VIEWER })).json<EventList>().events).toEqual([]);
    });

    it.each([
      ['limit=0', 'querystring.limit'],
      ['limit=1001', 'querystring.limit'],
      ['limit=ten', 'querystring.limit'],
      ['since=-1', 'querystring.since'],
      ['since=1.5', 'querystring.since'],
      ['cursor=5', 'querystring.cursor'],
    ])('answers 400 for ?%s naming %s', async (query, field) => {
      const res = await call('GET', `/api/v1/events?${query}`, { token: VIEWER });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ error: 'PODGATE_INVALID', field });
    });
  });

  describe('tokens and roles', () => {
    it('answers 401 with WWW-Authenticate and nothing more without a token', async () => {
      for (const [method, path] of [
        ['GET', '/api/v1/services'],
        ['GET', '/api/v1/events'],
        ['GET', '/metrics'],
        ['DELETE', '/api/v1/services/svc'],
      ] as const) {
        const res = await call(method, path);
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        expect(res.json()).toEqual({ error: 'PODGATE_UNAUTHORIZED', message: 'a valid bearer token is required' });
      }
    });

    it('answers 401 to a wrong token, another scheme, and a query token on a plain request', async () => {
      const cases: CallOptions[] = [
        { token: `${OPERATOR}x` },
        { token: OPERATOR.slice(0, -1) },
        { headers: { authorization: `Basic ${Buffer.from(`alice:${OPERATOR}`).toString('base64')}` } },
        { headers: { authorization: 'Bearer' } },
      ];
      for (const options of cases) expect((await call('GET', '/api/v1/services', options)).status).toBe(401);
      expect((await call('GET', `/api/v1/services?token=${OPERATOR}`)).status).toBe(401);
    });

    it('answers 401 before reading a body, so no token means no parsing', async () => {
      const res = await call('POST', '/api/v1/services', { raw: '{not json' });
      expect(res.status).toBe(401);
    });

    it('lets a viewer read but answers 403 with no detail to its changes', async () => {
      expect((await call('GET', '/api/v1/services', { token: VIEWER })).status).toBe(200);
      const forbidden = [
        await call('POST', '/api/v1/services', { token: VIEWER, body: valid }),
        await call('DELETE', '/api/v1/services/svc', { token: VIEWER }),
        await call('POST', peerPath('svc', addressOf(0), 'eject'), { token: VIEWER }),
      ];
      for (const res of forbidden) {
        expect(res.status).toBe(403);
        expect(res.json()).toEqual({ error: 'PODGATE_FORBIDDEN', message: 'this action needs the operator role' });
      }
      expect(control.getService('extra')).toBeNull();
      expect(control.getService('svc')?.peers.find((p) => p.address === addressOf(0))?.state).toBe('active');
    });

    it('serves healthz and readyz without a token', async () => {
      const health = await call('GET', '/healthz');
      expect(health.status).toBe(200);
      expect(health.json<{ status: string }>()).toEqual({ status: 'ok' });
      const ready = await call('GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.json<{ status: string }>()).toEqual({ status: 'ready' });
    });

    it('serves Prometheus metrics to a viewer', async () => {
      const res = await call('GET', '/metrics', { token: VIEWER });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.text).toContain('# TYPE');
    });
  });

  describe('replies', () => {
    it('marks API replies Cache-Control: no-store, errors included', async () => {
      expect((await call('GET', '/api/v1/services', { token: VIEWER })).headers['cache-control']).toBe('no-store');
      expect((await call('GET', '/api/v1/services')).headers['cache-control']).toBe('no-store');
      expect((await call('GET', '/api/v1/services/nope', { token: VIEWER })).headers['cache-control']).toBe('no-store');
    });

    it('answers 400 with an ApiError to a URL with broken percent-encoding', async () => {
      const res = await call('GET', '/api/v1/services/%E0%A4%A', { token: VIEWER });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'PODGATE_BAD_REQUEST', message: 'the URL has an invalid percent-encoding' });
    });

    it('answers 404 with an ApiError for an unknown route', async () => {
      const res = await call('GET', '/api/v1/nothing-here', { token: VIEWER });
      expect(res.status).toBe(404);
      expect(res.json()).toEqual({ error: 'PODGATE_NOT_FOUND', message: 'no route GET /api/v1/nothing-here' });
    });
  });

  describe('bad request bodies', () => {
    it.each(badBodies)('answers 400 to %s, naming the field', async (_what, body, field) => {
      const res = await call('POST', '/api/v1/services', { token: OPERATOR, raw: JSON.stringify(body) });
      expect(res.status, res.text).toBe(400);
      const error = res.json();
      expect(error).toMatchObject({ error: 'PODGATE_INVALID', field });
      expect(error.message).toMatch(new RegExp(`^${field.replace(/\./g, '\\.')}\\b`));
      expect(error.message).not.toContain('\n');
      expect(control.getService('extra')).toBeNull();
    });

    it('says the rule in words, as the config file does', async () => {
      const cases: [unknown, string][] = [
        [{ ...valid, port: 70_000 }, 'body.port: must be 1-65535'],
        [{ ...valid, name: '' }, 'body.name: must not be empty'],
        [{ ...valid, routes: [] }, 'body.routes: must not be an empty list'],
        [{ ...valid, algorithm: 'random' }, 'body.algorithm: must be one of round_robin, least_request'],
        [{ ...valid, timeouts: { connect: true } }, 'body.timeouts.connect: must be a string or a number'],
      ];
      for (const [body, message] of cases) {
        expect((await call('POST', '/api/v1/services', { token: OPERATOR, body })).json().message).toBe(message);
      }
    });

    it.each(badPayloads)('answers %s with the right status', async (_what, raw, contentType, status, field) => {
      const res = await call('POST', '/api/v1/services', { token: OPERATOR, raw, contentType });
      expect(res.status, res.text).toBe(status);
      const error = res.json();
      expect(error.error).toMatch(/^PODGATE_/);
      if (field !== undefined) expect(error.field).toBe(field);
      expect(control.getService('extra')).toBeNull();
    });
  });
});
