import { LabDnsServer } from '@podgate/lab';
import type { ServiceConfig, ServiceView } from '@podgate/protocol';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '@podgate/config';
import { Podgate } from '../src/podgate.js';

/*
 * Issue 17: a service added through the admin API was built from the built-in defaults, not the
 * config file's `defaults:`, although docs/admin-api.md calls the body "a service as in the config
 * file". It must get the file's defaults, keep them across restarts (the state file holds the
 * body), and follow a change of `defaults` on SIGHUP as the file's own services do.
 */

const TOKEN = 'operator-token-defaults-0123';
const PORT = 18450;
const logger = pino({ level: 'silent' });

let dns: LabDnsServer;
let stateDir: string;
const running: Podgate[] = [];

beforeEach(async () => {
  dns = await LabDnsServer.start();
  dns.setRecords('file.lab.svc.cluster.local', { a: ['127.0.45.1'], ttl: 30 });
  dns.setRecords('api.lab.svc.cluster.local', { a: ['127.0.45.2', '127.0.45.3'], ttl: 30 });
  stateDir = join(mkdtempSync(join(tmpdir(), 'podgate-defaults-')), 'state');
});

afterEach(async () => {
  for (const podgate of running.splice(0)) await podgate.close(100);
  await dns.close();
});

/** The config file, with `defaults` as given (YAML flow mappings). */
function configText(defaults: string): string {
  return [
    'workers: 1',
    'listen: 127.0.0.1:0',
    `stateDir: ${stateDir}`,
    `admin: { listen: 127.0.0.1:0, tokens: [{ name: alice, token: ${TOKEN}, role: operator }] }`,
    `dns: { nameservers: [${dns.nameserver}] }`,
    'log: { level: silent, access: false }',
    'defaults:',
    defaults,
    'services:',
    '  file:',
    '    dnsName: file.lab.svc.cluster.local',
    `    port: ${PORT}`,
    '    routes: [{ pathPrefix: /file }]',
    '',
  ].join('\n');
}

const FIRST_DEFAULTS = [
  '  algorithm: least_request',
  '  retry: { tries: 5, on: [error, timeout, http_503] }',
  '  timeouts: { connect: 250ms, responseHeader: 3s }',
  '  body: { bufferSize: 256KiB, maxSize: 2MiB }',
  '  ejection: { consecutive5xx: 2 }',
].join('\n');

const SECOND_DEFAULTS = [
  '  algorithm: round_robin',
  '  retry: { tries: 2 }',
  '  timeouts: { connect: 400ms }',
  '  body: { bufferSize: 128KiB, maxSize: 1MiB }',
].join('\n');

/** What the operator sends: a name, where to find the pods, a route, and one policy key of its own. */
const BODY = { name: 'api', dnsName: 'api.lab.svc.cluster.local', port: PORT, routes: [{ pathPrefix: '/api' }], retry: { deadline: '5s' } };

async function start(defaults: string): Promise<Podgate> {
  const podgate = await Podgate.start(parseConfig(configText(defaults), 'podgate.yaml', { env: {} }), { logger, dashboardDir: null });
  running.push(podgate);
  return podgate;
}

async function stop(podgate: Podgate): Promise<void> {
  running.splice(running.indexOf(podgate), 1);
  await podgate.close(100);
}

async function api(podgate: Podgate, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await request(`http://${podgate.adminAddress}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, json: await res.body.json() };
}

/** The service as the data plane runs it. */
function running_(podgate: Podgate, name: string): ServiceConfig {
  const config = podgate.proxy?.service(name)?.config;
  if (config === undefined) throw new Error(`the data plane has no service ${name}`);
  return config;
}

/** Every key `defaults` covers, as a service resolved them. */
function policy(service: ServiceConfig): Omit<ServiceConfig, 'name' | 'dnsName' | 'port' | 'routes'> {
  const { name: _name, dnsName: _dnsName, port: _port, routes: _routes, ...rest } = service;
  return rest;
}

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a service added through the API', () => {
  it('gets the config file’s defaults, as a service in the file does, the keys it gives excepted', async () => {
    const podgate = await start(FIRST_DEFAULTS);
    const added = await api(podgate, 'POST', '/services', BODY);
    expect(added.status).toBe(201);
    expect((added.json as ServiceView).algorithm).toBe('least_request');
    const fromApi = running_(podgate, 'api');
    const fromFile = running_(podgate, 'file');
    expect(policy(fromApi)).toEqual({ ...policy(fromFile), retry: { ...fromFile.retry, deadlineMs: 5_000 } });
    expect(fromApi).toMatchObject({
      algorithm: 'least_request',
      retry: { tries: 5, on: ['error', 'timeout', 'http_503'], deadlineMs: 5_000 },
      timeouts: { connectMs: 250, responseHeaderMs: 3_000 },
      body: { bufferBytes: 256 * 1024, maxBytes: 2 * 1024 * 1024 },
      ejection: { consecutive5xx: 2 },
    });
  });

  it('is validated against the file’s defaults: a key that clashes with them is refused with 400', async () => {
    const podgate = await start(FIRST_DEFAULTS);
    // 4 MiB of buffer over the file's 2 MiB body.maxSize.
    const refused = await api(podgate, 'POST', '/services', { ...BODY, body: { bufferSize: '4MiB' } });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ error: 'PODGATE_INVALID', message: expect.stringContaining('must not exceed body.maxSize (4MiB > 2MiB)') });
  });

  it('keeps the file’s defaults across a restart (the state file holds only what the operator gave)', async () => {
    const first = await start(FIRST_DEFAULTS);
    expect((await api(first, 'POST', '/services', BODY)).status).toBe(201);
    const before = running_(first, 'api');
    await stop(first);
    const second = await start(FIRST_DEFAULTS);
    await until(() => second.proxy?.service('api') !== undefined);
    expect(second.control.getService('api')).toMatchObject({ source: 'api', algorithm: 'least_request' });
    expect(running_(second, 'api')).toEqual(before);
    expect(policy(running_(second, 'api'))).toEqual({ ...policy(running_(second, 'file')), retry: { ...running_(second, 'file').retry, deadlineMs: 5_000 } });
  });

  it('follows a change of `defaults` on SIGHUP like the file’s services, keeping its own keys and its operator holds', async () => {
    const podgate = await start(FIRST_DEFAULTS);
    expect((await api(podgate, 'POST', '/services', BODY)).status).toBe(201);
    await until(() => podgate.control.getService('api')?.peers.length === 2);
    expect((await api(podgate, 'POST', `/services/api/peers/${encodeURIComponent('127.0.45.2:18450')}/drain`)).status).toBe(200);

    podgate.reload(parseConfig(configText(SECOND_DEFAULTS), 'podgate.yaml', { env: {} }));
    // The data plane applies the control plane's messages asynchronously, even in process.
    await until(() => running_(podgate, 'file').algorithm === 'round_robin' && running_(podgate, 'api').retry.tries === 2);
    const fromApi = running_(podgate, 'api');
    const fromFile = running_(podgate, 'file');
    expect(fromFile).toMatchObject({ algorithm: 'round_robin', retry: { tries: 2 }, timeouts: { connectMs: 400 } });
    expect(policy(fromApi)).toEqual({ ...policy(fromFile), retry: { ...fromFile.retry, deadlineMs: 5_000 } });
    expect(podgate.control.getService('api')).toMatchObject({ source: 'api', algorithm: 'round_robin' });
    await until(() => podgate.control.getService('api')?.peers.length === 2);
    const holds = Object.fromEntries((podgate.control.getService('api')?.peers ?? []).map((p) => [p.address, p.hold]));
    expect(holds).toEqual({ '127.0.45.2:18450': 'drain', '127.0.45.3:18450': null });
    const reloaded = podgate.control.latestEvents(20).find((e) => e.type === 'config_reloaded');
    expect(reloaded?.detail).toBe('1 services from the config file; 1 added through the API changed with the new defaults');

    // And the new defaults hold after a restart too.
    await stop(podgate);
    const restarted = await start(SECOND_DEFAULTS);
    await until(() => restarted.proxy?.service('api') !== undefined);
    expect(running_(restarted, 'api')).toEqual(fromApi);
  });

  it('refuses a reload whose defaults make it invalid, naming it, and changes nothing', async () => {
    const podgate = await start(FIRST_DEFAULTS);
    // Valid under the first defaults (2 MiB maxSize), not under the second (1 MiB).
    expect((await api(podgate, 'POST', '/services', { ...BODY, body: { bufferSize: '1536KiB' } })).status).toBe(201);
    const before = { api: running_(podgate, 'api'), file: running_(podgate, 'file') };
    expect(() => podgate.reload(parseConfig(configText(SECOND_DEFAULTS), 'podgate.yaml', { env: {} }))).toThrow(
      /^service api \(added through the API\) is not valid under the new config: body\.body\.bufferSize: must not exceed body\.maxSize \(1536KiB > 1MiB\)$/,
    );
    expect(running_(podgate, 'api')).toEqual(before.api);
    expect(running_(podgate, 'file')).toEqual(before.file);
    expect(podgate.control.latestEvents(20).some((e) => e.type === 'config_reloaded')).toBe(false);
  });
});
