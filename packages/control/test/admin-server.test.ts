import type { ServiceConfig } from '@podgate/protocol';
import type { FastifyInstance } from 'fastify';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLoopbackHost } from '@podgate/config';
import { buildAdminApp, ControlPlane, startAdminServer, TokenAuth, type AdminServer } from '../src/index.js';
import { proxyConfig, serviceConfig } from '@podgate/lab';

/*
 * The admin server around the API: when it refuses to start, where it listens, and what it serves
 * besides /api/v1. A control plane with no services and no data plane: never ready.
 */

const OPERATOR = 'operator-token-0123456789';
const noTokens = new TokenAuth([]);
const withToken = new TokenAuth([{ name: 'alice', token: OPERATOR, role: 'operator' }]);
let control: ControlPlane;
const servers: AdminServer[] = [];
const apps: FastifyInstance[] = [];

function parseService(input: unknown): ServiceConfig {
  const i = input as { name: string; port: number };
  if (i.name === 'boom') throw new Error('secret internals');
  return serviceConfig(i.name, i.port);
}

beforeEach(async () => {
  control = await ControlPlane.start({ config: proxyConfig([]), parseService, logger: pino({ level: 'silent' }) });
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await control.close();
});

function app(options: Partial<Parameters<typeof buildAdminApp>[0]> = {}): FastifyInstance {
  const built = buildAdminApp({ control, auth: withToken, ...options });
  apps.push(built);
  return built;
}

describe('startAdminServer', () => {
  it.each(['0.0.0.0', '::', '192.0.2.7', '198.51.100.2', 'admin.example.com'])('refuses to listen on %s without a token', async (host) => {
    await expect(startAdminServer({ control, auth: noTokens, host, port: 0 })).rejects.toMatchObject({
      code: 'PODGATE_ADMIN_INSECURE',
      message: expect.stringContaining(host),
    });
  });

  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1'])('listens on loopback %s without a token', async (host) => {
    const server = await startAdminServer({ control, auth: noTokens, host, port: 0 });
    servers.push(server);
    expect(server.address).toMatch(host === '::1' ? /^\[::1\]:\d+$/ : new RegExp(`^${host.replace(/\./g, '\\.')}:\\d+$`));
    const res = await request(`http://${server.address}/healthz`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ status: 'ok' });
  });

  it('reports the port it took when asked for 0, and stops listening on close', async () => {
    const server = await startAdminServer({ control, auth: withToken, host: '127.0.0.1', port: 0 });
    const port = Number(server.address.split(':')[1]);
    expect(port).toBeGreaterThan(0);
    await server.close();
    await expect(request(`http://127.0.0.1:${port}/healthz`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['128.0.0.1', false],
    ['::ffff:192.0.2.1', false],
    ['localhost.example.com', false],
  ])('%s → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe('buildAdminApp', () => {
  it('answers readyz 503 until the control plane is ready', async () => {
    const res = await app().inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'starting' });
  });

  it('answers /metrics 404 when there are no metrics, still only with a token', async () => {
    const a = app();
    expect((await a.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const res = await a.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'PODGATE_NOT_FOUND', message: 'metrics are not enabled' });
  });

  it('answers 500 with no detail when something unexpected fails, and logs the cause', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const res = await app({ logger }).inject({
      method: 'POST',
      url: '/api/v1/services',
      headers: { authorization: `Bearer ${OPERATOR}` },
      payload: { name: 'boom', dnsName: 'boom.local', port: 80 },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'PODGATE_INTERNAL', message: 'internal error' });
    expect(lines.join('')).toContain('secret internals');
  });

  it('honours a smaller body limit', async () => {
    const res = await app({ bodyLimit: 100 }).inject({
      method: 'POST',
      url: '/api/v1/services',
      headers: { authorization: `Bearer ${OPERATOR}` },
      payload: { name: 'svc', dnsName: 'x'.repeat(200), port: 80 },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'PODGATE_BODY_TOO_LARGE' });
  });

  it('hands the root instance to registerFeed, whose routes can ask for a role', async () => {
    const a = app({
      registerFeed: (root) => {
        root.get('/api/v1/live', { config: { role: 'viewer' } }, async (req) => ({ caller: req.principal?.name }));
      },
    });
    expect((await a.inject({ method: 'GET', url: '/api/v1/live' })).statusCode).toBe(401);
    const res = await a.inject({ method: 'GET', url: '/api/v1/live', headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(res.json()).toEqual({ caller: 'alice' });
    // A fastify route never takes a token from the URL or the subprotocol, upgrade headers or not.
    const upgrade = { upgrade: 'websocket', connection: 'Upgrade' };
    expect((await a.inject({ method: 'GET', url: `/api/v1/live?token=${OPERATOR}`, headers: upgrade })).statusCode).toBe(401);
    expect((await a.inject({ method: 'GET', url: '/api/v1/live', headers: { ...upgrade, 'sec-websocket-protocol': `bearer.${OPERATOR}` } })).statusCode).toBe(
      401,
    );
  });

  it('refuses ?token= and the bearer.<token> subprotocol on REST routes that carry Upgrade: websocket', async () => {
    const a = app();
    const body = { name: 'sneaky', dnsName: 'sneaky.local', port: 80 };
    for (const headers of [{ upgrade: 'websocket' }, { upgrade: 'websocket', connection: 'Upgrade' }]) {
      const viaQuery = await a.inject({ method: 'POST', url: `/api/v1/services?token=${OPERATOR}`, headers, payload: body });
      expect(viaQuery.statusCode).toBe(401);
      const viaProtocol = await a.inject({
        method: 'POST',
        url: '/api/v1/services',
        headers: { ...headers, 'sec-websocket-protocol': `podgate.v1, bearer.${OPERATOR}` },
        payload: body,
      });
      expect(viaProtocol.statusCode).toBe(401);
      expect((await a.inject({ method: 'GET', url: `/api/v1/services?token=${OPERATOR}`, headers })).statusCode).toBe(401);
    }
    expect(control.getService('sneaky')).toBeNull();
  });

  it('writes no token to the log, whichever way it came', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const a = app({ logger });
    const upgrade = { upgrade: 'websocket', 'sec-websocket-protocol': `bearer.${OPERATOR}` };
    // A 500 (the one request the admin API logs), a 401, a 404 and a bad URL, each carrying the token.
    expect(
      (
        await a.inject({
          method: 'POST',
          url: `/api/v1/services?token=${OPERATOR}`,
          headers: { authorization: `Bearer ${OPERATOR}`, ...upgrade },
          payload: { name: 'boom', dnsName: 'boom.local', port: 80 },
        })
      ).statusCode,
    ).toBe(500);
    expect((await a.inject({ method: 'GET', url: `/api/v1/services?token=${OPERATOR}`, headers: upgrade })).statusCode).toBe(401);
    expect((await a.inject({ method: 'GET', url: `/nothing?token=${OPERATOR}`, headers: upgrade })).statusCode).toBe(404);
    expect(
      (await a.inject({ method: 'GET', url: `/api/v1/services/%zz?token=${OPERATOR}`, headers: { authorization: `Bearer ${OPERATOR}` } })).statusCode,
    ).toBe(400);
    expect(lines.join('')).toContain('secret internals');
    expect(lines.join('')).not.toContain(OPERATOR);
  });

  describe('with a dashboard', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'podgate-dashboard-'));
      await writeFile(join(dir, 'index.html'), '<!doctype html><title>podgate</title>');
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('serves its files at / without a token, while the API still needs one', async () => {
      const a = app({ dashboardDir: dir });
      const page = await a.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<title>podgate</title>');
      expect((await a.inject({ method: 'GET', url: '/api/v1/services' })).statusCode).toBe(401);
      const missing = await a.inject({ method: 'GET', url: '/nothing.js' });
      expect(missing.statusCode).toBe(404);
    });
  });
});
