import { describe, expect, it } from 'vitest';
import { classifyAnswers, describeDnsError } from '../src/dns-outcome.js';

const ok = (...records: [string, number][]): PromiseSettledResult<{ address: string; ttl: number }[]> => ({
  status: 'fulfilled',
  value: records.map(([address, ttl]) => ({ address, ttl })),
});
const fail = (code: string): PromiseRejectedResult => ({
  status: 'rejected',
  reason: Object.assign(new Error(`query ${code} web.example`), { code }),
});

describe('classifyAnswers', () => {
  it('takes the union of both families and the lowest TTL', () => {
    expect(classifyAnswers(ok(['127.10.0.2', 30], ['127.10.0.1', 10]), ok(['fd00::1', 20]), 'web.example')).toEqual({
      kind: 'resolved',
      addresses: ['127.10.0.1', '127.10.0.2', 'fd00::1'],
      ttlSeconds: 10,
      failedFamily: null,
    });
  });

  it('counts addresses from one family as a success whatever the other family did', () => {
    expect(classifyAnswers(ok(['127.10.0.1', 5]), fail('ETIMEOUT'), 'web.example')).toMatchObject({ kind: 'resolved', failedFamily: 6 });
    expect(classifyAnswers(fail('ENODATA'), ok(['fd00::1', 5]), 'web.example').kind).toBe('resolved');
  });

  it('calls NXDOMAIN or NODATA on both families empty, NXDOMAIN winning', () => {
    expect(classifyAnswers(fail('ENODATA'), fail('ENODATA'), 'web.example')).toMatchObject({ kind: 'empty', code: 'ENODATA' });
    expect(classifyAnswers(fail('ENODATA'), fail('ENOTFOUND'), 'web.example')).toMatchObject({ kind: 'empty', code: 'ENOTFOUND' });
  });

  it('calls any other error without addresses a failure, not an empty answer', () => {
    expect(classifyAnswers(fail('ENOTFOUND'), fail('ETIMEOUT'), 'web.example')).toMatchObject({ kind: 'failed', code: 'ETIMEOUT' });
    expect(classifyAnswers(fail('ESERVFAIL'), fail('ECONNREFUSED'), 'web.example')).toMatchObject({ kind: 'failed', code: 'ESERVFAIL' });
    expect(classifyAnswers({ status: 'rejected', reason: 'boom' }, fail('ENODATA'), 'web.example')).toMatchObject({
      kind: 'failed',
      code: 'EUNKNOWN',
    });
  });
});

describe('classifyAnswers with records node returned without a TTL (past 256 of a family)', () => {
  // What node 20 returns for a 257-record answer: `ttl` undefined on every record past the 256th.
  const withoutTtl = (...addresses: string[]): { address: string; ttl: number }[] =>
    addresses.map((address) => ({ address, ttl: undefined as unknown as number }));
  const answer = (...records: { address: string; ttl: number }[]): PromiseFulfilledResult<{ address: string; ttl: number }[]> => ({
    status: 'fulfilled',
    value: records,
  });

  it('gives them the lowest TTL of the answer’s other records, never NaN', () => {
    const v4 = answer({ address: '127.10.0.1', ttl: 7 }, { address: '127.10.0.2', ttl: 5 }, ...withoutTtl('127.10.1.1', '127.10.1.2'));
    const outcome = classifyAnswers(v4, fail('ENODATA'), 'web.example');
    expect(outcome).toEqual({
      kind: 'resolved',
      addresses: ['127.10.0.1', '127.10.0.2', '127.10.1.1', '127.10.1.2'],
      ttlSeconds: 5,
      failedFamily: null,
    });
  });

  it('takes the other family’s TTL when none of a family’s records has one', () => {
    const outcome = classifyAnswers(answer(...withoutTtl('127.10.0.1')), ok(['fd00::1', 9]), 'web.example');
    expect(outcome).toMatchObject({ kind: 'resolved', ttlSeconds: 9 });
  });

  it('reports no TTL (null) when no record has one, for the refresher to use its bounds', () => {
    const outcome = classifyAnswers(answer(...withoutTtl('127.10.0.1', '127.10.0.2')), fail('ENODATA'), 'web.example');
    expect(outcome).toMatchObject({ kind: 'resolved', ttlSeconds: null });
  });

  it('ignores a TTL that is not a non-negative finite number', () => {
    const odd = [NaN, -1, Infinity].map((ttl, i) => ({ address: `127.10.0.${i + 1}`, ttl }));
    expect(classifyAnswers(answer(...odd, { address: '127.10.0.9', ttl: 30 }), fail('ENODATA'), 'web.example')).toMatchObject({ ttlSeconds: 30 });
  });

  it('handles 5,000 records (no spread of thousands of arguments)', () => {
    const records = Array.from({ length: 5_000 }, (_, i) => ({ address: `10.0.${i >> 8}.${i & 255}`, ttl: (i < 256 ? 30 - (i % 7) : undefined) as number }));
    const outcome = classifyAnswers(answer(...records), fail('ENODATA'), 'web.example');
    expect(outcome).toMatchObject({ kind: 'resolved', ttlSeconds: 24 });
    expect((outcome as { addresses: string[] }).addresses).toHaveLength(5_000);
  });
});

describe('describeDnsError', () => {
  const context = { dnsName: 'web.example', nameservers: ['10.0.0.10', '[fd00::a]:5353'], timeoutMs: 500, attempts: 2 };

  it('names every configured nameserver, port 53 when none is given, and the limits a timeout ran into', () => {
    expect(describeDnsError('ETIMEOUT', 'queryA ETIMEOUT web.example', context)).toBe('10.0.0.10:53, [fd00::a]:5353: timed out after 500 ms ×2');
    expect(describeDnsError('EREFUSED', 'queryA EREFUSED web.example', { ...context, nameservers: ['::1'] })).toBe('REFUSED from [::1]:53');
    expect(describeDnsError('EWEIRD', 'queryA EWEIRD web.example', { ...context, nameservers: ['10.0.0.10:5353'] })).toBe(
      '10.0.0.10:5353: EWEIRD (queryA EWEIRD web.example)',
    );
  });
});
