import { describe, expect, it } from 'vitest';
import { parseConfig, resolveConfig } from '@podgate/config';
import { configErrorOf } from './config-error-of.js';

/** A valid config with one service, to which each case adds one bad key. */
function withService(service: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dns: { nameservers: ['127.0.0.1:53'] },
    services: { 'image-lobby': { dnsName: 'image-lobby.cloud.svc.cluster.local', port: 8080, ...service } },
    ...extra,
  };
}

const retryNames = 'error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_429, non_idempotent';

const cases: [string, unknown, string][] = [
  [
    'a service name that is not an RFC 1123 label',
    { dns: { nameservers: ['127.0.0.1'] }, services: { Image_Lobby: { dnsName: 'a.local', port: 80 } } },
    "services.Image_Lobby: service name must be an RFC 1123 label (a-z, 0-9, '-', ≤ 63 chars)",
  ],
  ['a port out of range', withService({ port: 70000 }), 'services.image-lobby.port: must be 1-65535'],
  ['workers of 0', withService({}, { workers: 0 }), 'workers: must be auto or a number of worker processes 1-64, got "0"'],
  [
    'a short admin token',
    withService({}, { admin: { tokens: [{ name: 'ops', token: 'short', role: 'operator' }] } }),
    'admin.tokens[0].token: must be 16-256 printable characters without spaces or commas',
  ],
  ['an admin token without a role', withService({}, { admin: { tokens: [{ name: 'ops', token: 'x'.repeat(20) }] } }), 'admin.tokens[0].role: required'],
  [
    'an allowed origin with a path',
    withService({}, { admin: { allowedOrigins: ['https://ops.example.com/x'] } }),
    'admin.allowedOrigins[0]: must be an origin like https://ops.example.com (scheme and host, no path), got "https://ops.example.com/x"',
  ],
  ['a port of 0', withService({ port: 0 }), 'services.image-lobby.port: must be 1-65535'],
  ['a port given as text', withService({ port: 'http' }), 'services.image-lobby.port: must be a number, got "http"'],
  ['a missing dnsName', withService({ dnsName: undefined }), 'services.image-lobby.dnsName: required'],
  [
    'an invalid dnsName',
    withService({ dnsName: 'image_lobby..svc' }),
    `services.image-lobby.dnsName: must be a DNS name (labels of a-z, 0-9, '-', 1-63 chars), got "image_lobby..svc"`,
  ],
  ['tries above 10', withService({ retry: { tries: 11 } }), 'services.image-lobby.retry.tries: must be 1-10'],
  ['tries of 0 under defaults', { defaults: { retry: { tries: 0 } } }, 'defaults.retry.tries: must be 1-10'],
  [
    'an unknown retry condition',
    withService({ retry: { on: ['error', 'http_501'] } }),
    `services.image-lobby.retry.on[1]: must be one of ${retryNames} (got "http_501")`,
  ],
  ['a percentage above 100', { defaults: { ejection: { maxEjectedPercent: 150 } } }, 'defaults.ejection.maxEjectedPercent: must be 0-100'],
  ['a negative budget percentage', withService({ retry: { budget: { percent: -1 } } }), 'services.image-lobby.retry.budget.percent: must be 0-100'],
  ['minRefresh above maxRefresh', { dns: { minRefresh: '45s', maxRefresh: '30s' } }, 'dns.minRefresh: must not exceed dns.maxRefresh (45s > 30s)'],
  [
    'bufferSize above maxSize',
    withService({ body: { bufferSize: '2MiB', maxSize: '1MiB' } }),
    'services.image-lobby.body.bufferSize: must not exceed body.maxSize (2MiB > 1MiB)',
  ],
  [
    'a service maxSize below the default bufferSize',
    withService({ body: { maxSize: '512KiB' } }),
    'services.image-lobby.body.bufferSize: must not exceed body.maxSize (1MiB > 512KiB)',
  ],
  ['baseTime above maxTime', { defaults: { ejection: { baseTime: '10m' } } }, 'defaults.ejection.baseTime: must not exceed ejection.maxTime (10m > 5m)'],
  [
    'a duration with an unknown unit',
    withService({ timeouts: { connect: '2 sec' } }),
    'services.image-lobby.timeouts.connect: "2 sec" is not a duration (use 500ms, 2s, 1m)',
  ],
  ['a zero duration', { defaults: { timeouts: { connect: 0 } } }, 'defaults.timeouts.connect: must be positive'],
  ['a negative duration', { dns: { timeout: -5 } }, 'dns.timeout: must be positive'],
  ['a duration given as a list', { dns: { timeout: [1] } }, 'dns.timeout: must be a duration (500ms, 2s, 1m), got a list'],
  ['a size with an unknown unit', { client: { maxHeaderSize: '16k' } }, 'client.maxHeaderSize: "16k" is not a size (use 65536, 64KiB, 1MiB, 10MB)'],
  ['a header size below 1 KiB', { client: { maxHeaderSize: 100 } }, 'client.maxHeaderSize: must be at least 1024 bytes'],
  ['a misspelt service key', withService({ retyr: { tries: 2 } }), 'services.image-lobby.retyr: unknown key (did you mean retry?)'],
  ['a snake_case key', withService({ dns_name: 'x.local' }), 'services.image-lobby.dns_name: unknown key (did you mean dnsName?)'],
  ['an unknown top-level key', { upstreams: {} }, 'upstreams: unknown key'],
  [
    'a path prefix without a slash',
    withService({ routes: [{ pathPrefix: 'api' }] }),
    'services.image-lobby.routes[0].pathPrefix: must start with "/", got "api"',
  ],
  ['a route without pathPrefix', withService({ routes: [{ host: 'a.example.com' }] }), 'services.image-lobby.routes[0].pathPrefix: required'],
  ['an empty route list', withService({ routes: [] }), 'services.image-lobby.routes: must not be empty'],
  [
    'more than 64 routes',
    withService({ routes: Array.from({ length: 65 }, (_, i) => ({ pathPrefix: `/r${i}` })) }),
    'services.image-lobby.routes: must have at most 64 items',
  ],
  [
    'a route host with a port',
    withService({ routes: [{ host: 'api.example.com:8443', pathPrefix: '/' }] }),
    'services.image-lobby.routes[0].host: must not include a port (routes match the Host header without it)',
  ],
  [
    'a wildcard route host',
    withService({ routes: [{ host: '*.example.com', pathPrefix: '/' }] }),
    'services.image-lobby.routes[0].host: wildcards are not supported (list each host)',
  ],
  [
    'two services claiming one route',
    {
      dns: { nameservers: ['127.0.0.1'] },
      services: {
        a: { dnsName: 'a.local', port: 80, routes: [{ host: 'api.example.com', pathPrefix: '/recognize' }] },
        b: { dnsName: 'b.local', port: 80, routes: [{ pathPrefix: '/' }, { host: 'API.example.com', pathPrefix: '/recognize' }] },
      },
    },
    'services.b.routes[1]: route api.example.com/recognize is also claimed by services.a.routes[0]',
  ],
  [
    'services without nameservers',
    { services: { a: { dnsName: 'a.local', port: 80 } } },
    'dns.nameservers: required when services are configured (list the cluster DNS as ip:port; /etc/resolv.conf is not used)',
  ],
  [
    'a nameserver given by name',
    { dns: { nameservers: ['kube-dns:53'] } },
    'dns.nameservers[0]: "kube-dns:53" is not an IP address with an optional port (e.g. 127.0.0.1:53, [::1]:53)',
  ],
  ['a listen address without a port', { listen: '127.0.0.1' }, 'listen: must be "host:port" (e.g. 127.0.0.1:8080 or [::1]:8080), got "127.0.0.1"'],
  ['an unknown algorithm', { defaults: { algorithm: 'random' } }, 'defaults.algorithm: must be one of round_robin, least_request (got "random")'],
  ['an unknown log level', { log: { level: 'verbose' } }, 'log.level: must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")'],
  ['access logging given as text', { log: { access: 'yes' } }, 'log.access: must be true or false, got "yes"'],
  ['a jitter above 1', { dns: { jitter: 2 } }, 'dns.jitter: must be 0-1'],
  ['a section that is not a mapping', { dns: 'kube-dns' }, 'dns: must be a mapping, got "kube-dns"'],
  ['services given as a list', { services: ['image-lobby'] }, 'services: must be a mapping of service name to service, got a list'],
  ['a service that is not a mapping', withService({}, { services: { web: 8080 } }), 'services.web: must be a mapping with at least dnsName and port, got 8080'],
  ['a whole config that is not a mapping', ['listen'], 'the config must be a mapping, got a list'],
];

describe('bad configs', () => {
  it.each(cases)('rejects %s', (_name, input, expected) => {
    const err = configErrorOf(() => resolveConfig(input));
    expect(err.code).toBe('PODGATE_CONFIG_INVALID');
    expect(err.message).toBe(expected);
    expect(err.issues).toHaveLength(1);
  });

  it('reports every issue at once, sorted by path', () => {
    const err = configErrorOf(() =>
      parseConfig(`
listen: 127.0.0.1:99999
dns: { nameservers: [127.0.0.1], timeout: soon }
services:
  image-lobby:
    dnsName: image-lobby.local
    port: 0
    retyr: { tries: 2 }
    retry: { tries: 20 }
    routes: [{ pathPrefix: /a }, { pathPrefix: b }, { pathPrefix: /c }, { pathPrefix: /d }, { pathPrefix: /e }, { pathPrefix: /f }, { pathPrefix: /g }, { pathPrefix: /h }, { pathPrefix: /i }, { pathPrefix: /j }, { pathPrefix: k }]
  Web:
    port: 80
`),
    );
    expect(err.message.split('\n')).toEqual([
      'dns.timeout: "soon" is not a duration (use 500ms, 2s, 1m)',
      'listen: port must be 0-65535, got 99999',
      'services.image-lobby.port: must be 1-65535',
      'services.image-lobby.retry.tries: must be 1-10',
      'services.image-lobby.retyr: unknown key (did you mean retry?)',
      'services.image-lobby.routes[1].pathPrefix: must start with "/", got "b"',
      'services.image-lobby.routes[10].pathPrefix: must start with "/", got "k"',
      "services.Web: service name must be an RFC 1123 label (a-z, 0-9, '-', ≤ 63 chars)",
      'services.Web.dnsName: required',
    ]);
  });

  it('asks for nameservers even when every service is broken', () => {
    const err = configErrorOf(() => resolveConfig({ services: { a: { port: 80 } } }));
    expect(err.issues.map((i) => i.path)).toEqual(['dns.nameservers', 'services.a.dnsName']);
  });

  it('points each issue at its line and column in the YAML text', () => {
    const err = configErrorOf(() => parseConfig('dns:\n  attempts: 0\n', 'podgate.yaml'));
    expect(err.source).toBe('podgate.yaml');
    expect(err.issues).toEqual([{ path: 'dns.attempts', message: 'must be 1-10', line: 2, column: 13 }]);
  });
});

describe('YAML syntax', () => {
  it('reports a syntax error with its line and column', () => {
    const err = configErrorOf(() => parseConfig('listen: 127.0.0.1:8080\ndns: { nameservers: [127.0.0.1\nlog: {}\n', 'podgate.yaml'));
    expect(err.code).toBe('PODGATE_CONFIG_INVALID');
    expect(err.issues[0]).toMatchObject({ path: 'podgate.yaml:3:1', line: 3, column: 1 });
    expect(err.message).toMatch(/^podgate\.yaml:3:1: /);
    expect(err.message).not.toContain('    at ');
  });

  it('rejects a duplicate key instead of keeping the last one', () => {
    const err = configErrorOf(() => parseConfig('log: { level: info }\nlog: { level: debug }\n'));
    expect(err.message).toBe('config:2:1: Map keys must be unique');
  });

  it('reads `on` as a plain key, not a YAML 1.1 boolean', () => {
    const config = parseConfig('defaults: { retry: { on: [error] } }');
    expect(config.services).toEqual([]);
  });
});
