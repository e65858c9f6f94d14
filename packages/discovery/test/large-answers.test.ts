import type { DnsConfig } from '@podgate/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabDnsServer } from '../../lab/src/dns-server.js';
import { DnsRefresher, type DnsEvent } from '../src/dns-refresher.js';

/*
 * Issue 17: past 256 records of a family, node returns the rest without a TTL. The refresher took
 * Math.min over them (NaN), armed its timer with NaN (1 ms) and asked the cluster DNS about a
 * thousand times a second for as long as the service existed. These run the real resolver
 * against the lab's DNS over TCP (the UDP answers go out truncated) and count the queries.
 */

const NAME = 'big.default.svc.cluster.local';
/** Bounded: the window over which queries are counted. */
const WINDOW_MS = 2_500;

let server: LabDnsServer;
const refreshers: DnsRefresher[] = [];

beforeEach(async () => {
  server = await LabDnsServer.start();
});

afterEach(async () => {
  for (const refresher of refreshers.splice(0)) refresher.stop();
  await server.close();
});

function ipv4s(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.20.${i >> 8}.${i & 255}`);
}

function ipv6s(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `fd00::${(i + 1).toString(16)}`);
}

function start(dns: Partial<DnsConfig> = {}): { refresher: DnsRefresher; events: DnsEvent[]; sets: (readonly string[])[] } {
  const events: DnsEvent[] = [];
  const sets: (readonly string[])[] = [];
  const refresher = new DnsRefresher({
    service: 'big',
    dnsName: NAME,
    dns: { nameservers: [server.nameserver], timeoutMs: 1_000, attempts: 1, minRefreshMs: 200, maxRefreshMs: 5_000, emptyGraceMs: 1_000, jitter: 0, ...dns },
    onAddresses: (addresses) => sets.push(addresses),
    onEvent: (event) => events.push(event),
  });
  refreshers.push(refresher);
  refresher.start();
  return { refresher, events, sets };
}

async function waitUntil(condition: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Queries the lab answered (UDP and TCP) over WINDOW_MS once the first answer is in, as a rate. */
async function queryRate(): Promise<{ queries: number; perSecond: number }> {
  const before = server.stats.udpQueries + server.stats.tcpQueries;
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const queries = server.stats.udpQueries + server.stats.tcpQueries - before;
  return { queries, perSecond: Math.round((queries / WINDOW_MS) * 1000) };
}

describe.each([
  { label: '300 A records', a: 300, aaaa: 0 },
  { label: '5,000 addresses (3,000 A + 2,000 AAAA: 5,000 A do not fit in one DNS message)', a: 3_000, aaaa: 2_000 },
])('a service with $label over TCP', ({ a, aaaa }) => {
  it('refreshes at the TTL’s cadence, not every millisecond, and reports a finite next refresh', async () => {
    server.setRecords(NAME, { a: ipv4s(a), aaaa: ipv6s(aaaa), ttl: 1 });
    const { refresher, events, sets } = start();
    await waitUntil(() => sets.length === 1, 5_000);
    const rate = await queryRate();
    console.log(`${a + aaaa} addresses, TTL 1 s: ${rate.queries} DNS queries in ${WINDOW_MS} ms (${rate.perSecond}/s)`);
    expect(sets[0]).toHaveLength(a + aaaa);
    const resolved = events.find((e) => e.type === 'dns_resolved');
    expect(resolved).toMatchObject({ ttlSeconds: 1, nextRefreshMs: 1_000 });
    expect(Number.isFinite(refresher.status().nextRefreshAt)).toBe(true);
    expect(server.stats.truncated).toBeGreaterThanOrEqual(1);
    expect(server.stats.tcpQueries).toBeGreaterThanOrEqual(1);
    // TTL 1 s: a refresh a second, each an A and an AAAA query over UDP plus the TCP retries of
    // the truncated ones: at most 4 queries a refresh, 3 refreshes in the window at most.
    expect(rate.queries).toBeLessThanOrEqual(4 * Math.ceil(WINDOW_MS / 1_000));
    const refreshes = events.filter((e) => e.type === 'dns_resolved').length;
    expect(refreshes).toBeGreaterThanOrEqual(2);
    expect(refreshes).toBeLessThanOrEqual(1 + Math.ceil(WINDOW_MS / 1_000));
    expect(events.every((e) => e.type !== 'dns_resolved' || e.ttlSeconds === 1)).toBe(true);
    expect(sets).toHaveLength(1);
  });

  it('holds the configured bounds: TTL 0 refreshes at minRefresh, a long TTL at maxRefresh', async () => {
    server.setRecords(NAME, { a: ipv4s(a), aaaa: ipv6s(aaaa), ttl: 0 });
    const short = start({ minRefreshMs: 700, maxRefreshMs: 700 });
    await waitUntil(() => short.sets.length === 1, 5_000);
    const rate = await queryRate();
    expect(rate.queries).toBeLessThanOrEqual(4 * Math.ceil(WINDOW_MS / 700));
    expect(Number.isFinite(short.refresher.status().nextRefreshAt)).toBe(true);
    short.refresher.stop();

    server.setRecords(NAME, { a: ipv4s(a), aaaa: ipv6s(aaaa), ttl: 86_400 });
    const long = start({ minRefreshMs: 200, maxRefreshMs: 60_000 });
    await waitUntil(() => long.sets.length === 1, 5_000);
    expect(long.events.find((e) => e.type === 'dns_resolved')).toMatchObject({ ttlSeconds: 86_400, nextRefreshMs: 60_000 });
  });
});

describe('an answer too big for one DNS message', () => {
  it('gets the records that fit (the lab truncates over TCP as CoreDNS does) and a finite refresh', async () => {
    server.setRecords(NAME, { a: ipv4s(5_000), ttl: 1 });
    const { refresher, sets } = start();
    await waitUntil(() => sets.length === 1, 5_000);
    // (65,535 - 12 header - 35 question) / 16 bytes a record.
    expect(sets[0]).toHaveLength(4_093);
    expect(server.stats.tcpTruncated).toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(refresher.status().nextRefreshAt)).toBe(true);
  });
});
