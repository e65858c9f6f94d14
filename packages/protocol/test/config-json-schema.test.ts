import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { RouteSchema, ServiceInputSchema, type ServiceInput } from '../src/index.js';

// The admin API's body schema and the ServiceInput type are both derived from the config schema.

describe('ServiceInputSchema, built from the config schema', () => {
  it('accepts a service that sets every key, written as the ServiceInput type allows', () => {
    const input: ServiceInput = {
      name: 'web',
      dnsName: 'web.local',
      port: 8080,
      routes: [{ host: 'api.example.com', pathPrefix: '/' }],
      algorithm: 'least_request',
      retry: { tries: 2, on: ['error', 'http_503'], deadline: '10s', budget: { percent: 10, minPerSecond: 5 } },
      timeouts: { connect: 500, responseHeader: '5s', idle: '1m' },
      keepalive: { connections: 8, idleTimeout: '20s' },
      body: { bufferSize: '64KiB', maxSize: 1_048_576 },
      ejection: { consecutive5xx: 3, baseTime: '10s', maxTime: '2m', maxEjectedPercent: 30 },
      rescue: { enabled: false, stallFactor: 4, minStall: '100ms', probeTimeout: 200 },
      connectHedge: { enabled: true, factor: 5, minDelay: 20 },
      hedge: { methods: ['GET'] },
      returnProbe: { path: '/healthz', timeout: '1s' },
      slowStart: { window: '30s' },
    };
    expect([...Value.Errors(ServiceInputSchema, input)]).toEqual([]);
  });

  it.each([
    ['an unknown key', { colour: 'blue' }, '/colour'],
    ['an unknown nested key', { timeouts: { forever: '1s' } }, '/timeouts/forever'],
    ['a port out of the schema range', { port: 0 }, '/port'],
    ['tries out of the schema range', { retry: { tries: 11 } }, '/retry/tries'],
    ['an algorithm not in the schema', { algorithm: 'random' }, '/algorithm'],
    ['an empty routes list', { routes: [] }, '/routes'],
    ['65 routes', { routes: Array.from({ length: 65 }, (_, i) => ({ pathPrefix: `/r${i}` })) }, '/routes'],
  ])('refuses %s', (_what, change, path) => {
    const errors = [...Value.Errors(ServiceInputSchema, { name: 'web', dnsName: 'web.local', port: 80, ...change })];
    expect(errors[0]?.path).toBe(path);
  });

  it('describes a route as the config file does: a pathPrefix and an optional host', () => {
    expect(Value.Check(RouteSchema, { pathPrefix: '/' })).toBe(true);
    expect(Value.Check(RouteSchema, { host: 'a.example', pathPrefix: '/' })).toBe(true);
    expect(Value.Check(RouteSchema, { host: 'a.example' })).toBe(false);
    expect(Value.Check(RouteSchema, { pathPrefix: '/', weight: 2 })).toBe(false);
  });
});
