import { proxyConfig } from '@podgate/lab';
import type { ApiError, SessionView, StatusView } from '@podgate/protocol';
import type { ProxyServer } from '@podgate/proxy';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane, parseService, startAdminServer, startInProcessDataPlane, TokenAuth, type AdminServer } from '../src/index.js';

/*
 * GET /api/v1/session and GET /api/v1/status over a loopback socket, against a real control plane
 * with two in-process data planes. The dashboard used to learn its role by POSTing `{}` to
 * /services (a 400 in the browser's console on every load); it asks /session now, and its header
 * shows /status.
 */

const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789ab';
const STARTED_AT = Date.now() - 65_000;
const logger = pino({ level: 'silent' });

let control: ControlPlane;
const proxies: ProxyServer[] = [];
let server: AdminServer;
let dispatcher: Agent;

async function get<T = ApiError>(path: string, token?: string): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await request(`http://${server.address}${path}`, { headers, dispatcher });
  return { status: res.statusCode, body: (await res.body.json()) as T };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  const config = proxyConfig([]);
  control = await ControlPlane.start({ config, parseService, logger });
  for (const worker of [1, 2]) proxies.push(startInProcessDataPlane(control, config, logger, worker).proxy);
  const auth = new TokenAuth([
    { name: 'alice', token: OPERATOR, role: 'operator' },
    { name: 'victor', token: VIEWER, role: 'viewer' },
  ]);
  server = await startAdminServer({ control, auth, logger, host: '127.0.0.1', port: 0 });
  control.joinFleet({ id: 'host-a:8080', proxy: '127.0.0.1:8080', admin: server.address, version: '1.2.3', startedAt: STARTED_AT });
  dispatcher = new Agent();
  // Each data plane reports its counters every 500 ms.
  await until(() => control.workerStats().length === 2);
});

afterAll(async () => {
  await dispatcher.destroy();
  await server.close();
  for (const proxy of proxies) await proxy.close(100);
  await control.close();
});

describe('GET /api/v1/session', () => {
  it("names an operator token's owner and role", async () => {
    const res = await get<SessionView>('/api/v1/session', OPERATOR);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'alice', role: 'operator' });
  });

  it("names a viewer token's owner and role", async () => {
    const res = await get<SessionView>('/api/v1/session', VIEWER);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'victor', role: 'viewer' });
  });

  it('answers 401 without a token or with a wrong one', async () => {
    expect((await get('/api/v1/session')).status).toBe(401);
    const wrong = await get('/api/v1/session', 'not-a-token-0123456789');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('PODGATE_UNAUTHORIZED');
  });
});

describe('GET /api/v1/status', () => {
  it('gives the version, start time, uptime, addresses and workers of the instance that answered', async () => {
    const res = await get<StatusView>('/api/v1/status', VIEWER);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'host-a:8080', version: '1.2.3', startedAt: STARTED_AT, proxy: '127.0.0.1:8080', admin: server.address, workers: 2 });
    // By the server's clock: 65 s since the start, and this test took less than 30 s to get here.
    expect(res.body.uptimeMs).toBeGreaterThanOrEqual(65_000);
    expect(res.body.uptimeMs).toBeLessThan(95_000);
  });

  it('answers 401 without a token', async () => {
    expect((await get('/api/v1/status')).status).toBe(401);
  });
});
