import { describe, expect, it } from 'vitest';
import { dnsCondition, noPodsText, repeatText, serviceProblems } from '../src/lib/service-health.js';
import { event, service } from './fixtures.js';

const NAME = 'web.prod.svc.cluster.local';
const base = service('web').dns;

describe('DNS status on the dashboard', () => {
  it('tells a failing nameserver from a name without records, and says which nameserver did what', () => {
    const refused = {
      ...base,
      condition: 'failing',
      problem: `DNS lookup of ${NAME} failed: 127.0.0.53:53: connection refused`,
      lastError: { code: 'ECONNREFUSED', message: '127.0.0.53:53: connection refused', at: 2_000 },
    };
    expect(serviceProblems(service('web', { dns: refused })).map((p) => p.text)).toEqual(['no usable pod', 'DNS failing: 127.0.0.53:53: connection refused']);
    expect(noPodsText(refused, NAME)).toBe(`DNS lookup of ${NAME} failed: 127.0.0.53:53: connection refused; no pods known from before.`);

    const nxdomain = {
      ...base,
      condition: 'empty',
      problem: `NXDOMAIN from 127.0.0.53:53: ${NAME} does not exist`,
      lastError: { code: 'ENOTFOUND', message: `NXDOMAIN from 127.0.0.53:53: ${NAME} does not exist`, at: 2_000 },
    };
    expect(serviceProblems(service('web', { dns: nxdomain })).map((p) => p.kind)).toEqual(['no_usable_peer', 'dns_empty']);
    expect(noPodsText(nxdomain, NAME)).toBe(`NXDOMAIN from 127.0.0.53:53: ${NAME} does not exist.`);

    const resolving = { ...base, condition: 'resolving', lastSuccessAt: null };
    expect(noPodsText(resolving, NAME)).toBe('DNS has not answered yet.');
  });

  it('reads a server without `condition` from the last error: NXDOMAIN is empty, a timeout is failing', () => {
    const at = { lastSuccessAt: 1_000 };
    expect(dnsCondition({ ...base, ...at, lastError: { code: 'ENOTFOUND', message: 'queryA ENOTFOUND', at: 2_000 } })).toBe('empty');
    expect(dnsCondition({ ...base, ...at, lastError: { code: 'ETIMEOUT', message: 'queryA ETIMEOUT', at: 2_000 } })).toBe('failing');
    expect(dnsCondition({ ...base, ...at, lastError: { code: 'ETIMEOUT', message: 'queryA ETIMEOUT', at: 500 } })).toBe('resolved');
  });

  it('shows an event that stands for several in a row as ×N with the last time', () => {
    const clock = (t: number): string => `t${t}`;
    expect(repeatText(event(1, { type: 'dns_failed', count: 12, lastAt: 9_000 }), clock)).toBe('×12, last t9000');
    expect(repeatText(event(2, { type: 'dns_failed' }), clock)).toBeNull();
  });
});
