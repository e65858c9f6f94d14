import { availableParallelism } from 'node:os';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PodgateConfig } from '@podgate/protocol';
import { describe, expect, it } from 'vitest';
import {
  builtinServiceDefaults,
  loadConfigFile,
  parseConfig,
  parseDuration,
  parseSize,
  resolveConfig,
  serviceFromInput,
  type ConfigError,
  type ServiceDefaults,
} from '../src/index.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const minimal = `
dns: { nameservers: [127.0.0.1:5353] }
services:
  image-lobby:
    dnsName: image-lobby-production.cloud.svc.cluster.local
    port: 8080
`;

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('resolves an empty file to the documented defaults', () => {
    // `defaults`: what services added through the admin API are resolved against (issue 17).
    const expected: PodgateConfig & { defaults: ServiceDefaults } = {
      listen: { host: '127.0.0.1', port: 8080 },
      dns: {
        nameservers: [],
        timeoutMs: 2000,
        attempts: 3,
        minRefreshMs: 1000,
        maxRefreshMs: 30_000,
        emptyGraceMs: 30_000,
        jitter: 0.1,
      },
      client: { headerTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 65_000, maxHeaderBytes: 16 * 1024 },
      front: 'auto',
      log: { level: 'info', access: true },
      services: [],
      workers: availableParallelism(),
      stateDir: '.podgate',
      admin: { listen: { host: '127.0.0.1', port: 9901 }, tokens: [], allowedOrigins: [], feed: { maxConnections: 64, maxConnectionsPerToken: 16 } },
      fleet: { redis: '', name: 'podgate' },
      defaults: builtinServiceDefaults(),
    };
    expect(parseConfig('')).toEqual(expected);
    expect(resolveConfig({})).toEqual(expected);
    expect(resolveConfig(undefined)).toEqual(expected);
  });

  it('fills every service key from the built-in defaults', () => {
    const config = parseConfig(minimal);
    expect(config.services).toEqual([
      {
        name: 'image-lobby',
        dnsName: 'image-lobby-production.cloud.svc.cluster.local',
        port: 8080,
        routes: [{ pathPrefix: '/' }],
        algorithm: 'round_robin',
        retry: {
          tries: 3,
          on: ['error', 'timeout', 'invalid_header', 'http_502', 'http_500', 'non_idempotent'],
          deadlineMs: 30_000,
          budget: { percent: 20, minPerSecond: 10 },
        },
        timeouts: { connectMs: 2000, responseHeaderMs: 10_000, idleMs: 60_000 },
        keepalive: { connections: 64, idleTimeoutMs: 30_000 },
        body: { bufferBytes: 1024 * 1024, maxBytes: 10 * 1024 * 1024 },
        ejection: { consecutive5xx: 5, baseMs: 30_000, maxMs: 300_000, maxEjectedPercent: 50 },
        rescue: { enabled: true, stallFactor: 5, minStallMs: 150, probeTimeoutMs: 250 },
        connectHedge: { enabled: true, factor: 10, minDelayMs: 50 },
        hedge: { methods: ['GET', 'HEAD'] },
        returnProbe: { path: '', timeoutMs: 1000 },
        slowStart: { windowMs: 0 },
      },
    ]);
  });

  it('treats an empty key as its default', () => {
    const config = parseConfig('listen:\ndns:\n  timeout: ~\nclient:\n');
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.dns.timeoutMs).toBe(2000);
  });

  it('does not share default objects between services', () => {
    const config = resolveConfig({
      dns: { nameservers: ['127.0.0.1'] },
      services: { a: { dnsName: 'a.local', port: 80, routes: [{ pathPrefix: '/a' }] }, b: { dnsName: 'b.local', port: 80 } },
    });
    const [a, b] = config.services;
    a?.retry.on.push('http_503');
    expect(b?.retry.on).not.toContain('http_503');
    expect(builtinServiceDefaults().retry.on).not.toContain('http_503');
  });
});

describe('durations and sizes', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
  ])('parses the duration %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['2 sec', '2', 's', '-1s', '1d', ''])('rejects the duration %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([
    ['512B', 512],
    ['64KiB', 65_536],
    ['1MiB', 1_048_576],
    ['10MB', 10_000_000],
    ['1GiB', 1024 ** 3],
    ['2kb', 2000],
  ])('parses the size %s', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it('takes plain numbers as milliseconds and bytes', () => {
    const config = parseConfig('dns: { timeout: 750, maxRefresh: 1m }\nclient: { maxHeaderSize: 8192 }\n');
    expect(config.dns.timeoutMs).toBe(750);
    expect(config.dns.maxRefreshMs).toBe(60_000);
    expect(config.client.maxHeaderBytes).toBe(8192);
  });

  it('accepts a zero emptyGrace', () => {
    expect(parseConfig('dns: { emptyGrace: 0 }').dns.emptyGraceMs).toBe(0);
  });
});

describe('overrides', () => {
  it('merges a partial service override with defaults key by key', () => {
    const config = parseConfig(`
dns: { nameservers: ['127.0.0.1'] }
defaults:
  retry: { tries: 2, budget: { percent: 20 } }
  timeouts: { connect: 500ms }
services:
  image-lobby:
    dnsName: image-lobby.local
    port: 8080
    retry: { deadline: 5s, budget: { minPerSecond: 3 } }
    timeouts: { idle: 2m }
`);
    const service = config.services[0];
    expect(service?.retry).toEqual({
      tries: 2,
      on: ['error', 'timeout', 'invalid_header', 'http_502', 'http_500', 'non_idempotent'],
      deadlineMs: 5000,
      budget: { percent: 20, minPerSecond: 3 },
    });
    expect(service?.timeouts).toEqual({ connectMs: 500, responseHeaderMs: 10_000, idleMs: 120_000 });
  });

  it('replaces the retry list rather than merging it, dropping repeats', () => {
    const config = parseConfig(`${minimal}    retry: { on: [error, http_503, error] }\n`);
    expect(config.services[0]?.retry.on).toEqual(['error', 'http_503']);
  });

  it('normalises names: lower-case hosts and DNS names, default nameserver port', () => {
    const config = parseConfig(`
listen: '[::1]:0'
dns: { nameservers: [127.0.0.1, '127.0.0.2:5353', '::1', '[::1]:5353'] }
services:
  web:
    dnsName: Web.Cloud.SVC.cluster.local.
    port: 80
    routes: [{ host: API.Example.com, pathPrefix: /v1 }]
`);
    expect(config.listen).toEqual({ host: '::1', port: 0 });
    expect(config.dns.nameservers).toEqual(['127.0.0.1:53', '127.0.0.2:5353', '[::1]:53', '[::1]:5353']);
    expect(config.services[0]?.dnsName).toBe('web.cloud.svc.cluster.local.');
    expect(config.services[0]?.routes).toEqual([{ host: 'api.example.com', pathPrefix: '/v1' }]);
  });

  it('keeps services in file order', () => {
    const config = resolveConfig({
      dns: { nameservers: ['127.0.0.1'] },
      services: { zeta: { dnsName: 'z.local', port: 1 }, alpha: { dnsName: 'a.local', port: 1, routes: [{ pathPrefix: '/a' }] } },
    });
    expect(config.services.map((s) => s.name)).toEqual(['zeta', 'alpha']);
  });
});

describe('serviceFromInput', () => {
  it('resolves one service over the given defaults', () => {
    const defaults = builtinServiceDefaults();
    defaults.retry.tries = 5;
    const service = serviceFromInput('api', { dnsName: 'api.local', port: 9000, keepalive: { connections: 8 } }, undefined, defaults);
    expect(service.name).toBe('api');
    expect(service.retry.tries).toBe(5);
    expect(service.keepalive).toEqual({ connections: 8, idleTimeoutMs: 30_000 });
  });

  it('reports issues under the given path', () => {
    const err = thrown(() => serviceFromInput('api', { dnsName: 'api.local', port: 0 }, 'body'));
    expect(err.code).toBe('PODGATE_CONFIG_INVALID');
    expect(err.message).toBe('body.port: must be 1-65535');
  });

  it('refuses a route the service lists twice, at the later route and under the given path', () => {
    const err = thrown(() => serviceFromInput('a', { dnsName: 'a.local', port: 80, routes: [{ pathPrefix: '/x' }, { pathPrefix: '/x' }] }, 'body'));
    expect(err.message).toBe('body.routes[1]: route (any host)/x is also claimed by body.routes[0]');
  });
});

describe('files', () => {
  it('parses podgate.example.yaml at the repo root', async () => {
    const config = await loadConfigFile(join(repoRoot, 'podgate.example.yaml'));
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.dns.nameservers.every((ns) => ns.startsWith('127.'))).toBe(true);
    expect(config.services.map((s) => s.name)).toEqual(['image-lobby']);
    expect(config.services[0]?.routes).toEqual([{ host: 'api.example.com', pathPrefix: '/recognize' }, { pathPrefix: '/' }]);
    expect(config.services[0]?.retry.tries).toBe(3);
    expect(config.services[0]?.timeouts.connectMs).toBe(2000);
  });

  it('rejects an unreadable file with an error naming the path', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'podgate-config-')), 'missing.yaml');
    await expect(loadConfigFile(path)).rejects.toMatchObject({
      code: 'PODGATE_CONFIG_INVALID',
      message: `${path}: cannot read the config file (no such file)`,
    });
  });

  it('names the file and line of a validation issue', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'podgate-config-')), 'podgate.yaml');
    await writeFile(path, `${minimal}    retyr: { tries: 2 }\n`);
    const err = (await loadConfigFile(path).catch((e: unknown) => e)) as ConfigError;
    expect(err.source).toBe(path);
    expect(err.issues).toEqual([{ path: 'services.image-lobby.retyr', message: 'unknown key (did you mean retry?)', line: 7, column: 12 }]);
  });
});
