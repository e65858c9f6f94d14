import type { DnsConfig } from '@podgate/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabDnsServer } from '../../lab/src/dns-server.js';
import { DnsRefresher, URGENT_REFRESH_MS, type DnsEvent, type DnsRefresherOptions } from '../src/dns-refresher.js';

const NAME = 'web.default.svc.cluster.local';

let server: LabDnsServer;
const refreshers: DnsRefresher[] = [];

beforeEach(async () => {
  server = await LabDnsServer.start();
});

afterEach(async () => {
  for (const refresher of refreshers.splice(0)) refresher.stop();
  await server.close();
});

function dnsConfig(overrides: Partial<DnsConfig> = {}): DnsConfig {
  return {
    nameservers: [server.nameserver],
    timeoutMs: 200,
    attempts: 1,
    minRefreshMs: 100,
    maxRefreshMs: 5_000,
    emptyGraceMs: 300,
    jitter: 0,
    ...overrides,
  };
}

interface Harness {
  refresher: DnsRefresher;
  sets: (readonly string[])[];
  events: DnsEvent[];
  /** Resolves with the first event (already seen or to come) matching `match`; rejects after `withinMs`. */
  event: (match: (event: DnsEvent) => boolean, withinMs?: number) => Promise<DnsEvent>;
}

function harness(dns: Partial<DnsConfig> = {}, options: Partial<DnsRefresherOptions> = {}): Harness {
  const sets: (readonly string[])[] = [];
  const events: DnsEvent[] = [];
  const waiters = new Set<(event: DnsEvent) => void>();
  const refresher = new DnsRefresher({
    service: 'web',
    dnsName: NAME,
    dns: dnsConfig(dns),
    onAddresses: (addresses) => sets.push(addresses),
    onEvent: (event) => {
      events.push(event);
      for (const waiter of waiters) waiter(event);
    },
    ...options,
  });
  refreshers.push(refresher);
  const event = (match: (event: DnsEvent) => boolean, withinMs = 2_000): Promise<DnsEvent> =>
    new Promise((resolve, reject) => {
      const seen = events.find(match);
      if (seen !== undefined) return resolve(seen);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching event within ${withinMs} ms; saw ${JSON.stringify(events)}`));
      }, withinMs);
      const waiter = (candidate: DnsEvent): void => {
        if (!match(candidate)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(candidate);
      };
      waiters.add(waiter);
    });
  return { refresher, sets, events, event };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms; fails after `withinMs`. */
async function waitUntil(condition: () => boolean, withinMs = 2_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms`);
    await sleep(10);
  }
}

describe('DnsRefresher', () => {
  it('resolves A and AAAA at once and reports their union sorted numerically, IPv4 first', async () => {
    server.setRecords(NAME, { a: ['127.0.1.10', '127.0.1.2'], aaaa: ['::1'], ttl: 30 });
    const { refresher, sets, event } = harness();
    refresher.start();
    const resolved = await event((e) => e.type === 'dns_resolved');
    expect(sets).toEqual([['127.0.1.2', '127.0.1.10', '::1']]);
    expect(resolved).toMatchObject({ service: 'web', ttlSeconds: 30, nextRefreshMs: 5_000, changed: true });
    expect(refresher.status()).toMatchObject({ addresses: ['127.0.1.2', '127.0.1.10', '::1'], lastError: null });
  });

  it('counts an answer for one family with NODATA for the other as a success', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 30 });
    const { refresher, sets, events } = harness();
    await refresher.refresh();
    expect(sets).toEqual([['127.0.1.1']]);
    expect(events.map((e) => e.type)).toEqual(['dns_resolved']);
  });

  it('follows a 1 s TTL and sees a record change within 1.5 s', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 1 });
    const { refresher, sets, event } = harness();
    refresher.start();
    await event((e) => e.type === 'dns_resolved');
    const changedAt = Date.now();
    server.setRecords(NAME, { a: ['127.0.1.2'], ttl: 1 });
    await event((e) => e.type === 'dns_resolved' && e.addresses[0] === '127.0.1.2', 1_500);
    expect(Date.now() - changedAt).toBeLessThan(1_500);
    expect(sets).toEqual([['127.0.1.1'], ['127.0.1.2']]);
  });

  it('refreshes early on refreshSoon(), but not before minRefreshMs since the last refresh', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 30 });
    const { refresher, event } = harness({ minRefreshMs: 400, maxRefreshMs: 30_000 });
    refresher.start();
    await event((e) => e.type === 'dns_resolved');
    const first = Date.now();
    server.setRecords(NAME, { a: ['127.0.1.1', '127.0.1.2'], ttl: 30 });
    refresher.refreshSoon();
    refresher.refreshSoon();
    await event((e) => e.type === 'dns_resolved' && e.addresses.length === 2, 1_500);
    expect(Date.now() - first).toBeGreaterThanOrEqual(380);
    expect(server.stats.udpQueries).toBe(4);
  });

  it('holds a TTL of 0 to minRefreshMs and a long TTL to maxRefreshMs, plus jitter', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 0 });
    const short = harness({ minRefreshMs: 250, jitter: 0.5 }, { random: () => 0.5 });
    await short.refresher.refresh();
    expect(short.events[0]).toMatchObject({ type: 'dns_resolved', ttlSeconds: 0, nextRefreshMs: 313 });
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 3_600 });
    const long = harness({ maxRefreshMs: 2_000 });
    await long.refresher.refresh();
    expect(long.events[0]).toMatchObject({ type: 'dns_resolved', ttlSeconds: 3_600, nextRefreshMs: 2_000 });
  });

  it('keeps the last known good set when the nameserver times out, and retries at minRefreshMs', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 0 });
    const { refresher, sets, event } = harness({ minRefreshMs: 1_000, maxRefreshMs: 60_000 });
    refresher.start();
    await event((e) => e.type === 'dns_resolved');
    server.setSilent(true);
    const failed = await event((e) => e.type === 'dns_failed', 2_500);
    expect(failed).toMatchObject({ code: 'ETIMEOUT', keptAddresses: 1 });
    const status = refresher.status();
    expect(status.addresses).toEqual(['127.0.1.1']);
    expect(status.lastError?.code).toBe('ETIMEOUT');
    expect(status.lastKnownGoodAgeMs).toBeGreaterThanOrEqual(1_000);
    expect((status.nextRefreshAt ?? Infinity) - Date.now()).toBeLessThanOrEqual(1_000);
    expect(sets).toEqual([['127.0.1.1']]);
  });

  it('keeps the last known pods of a family whose query fails while the other family answers', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], aaaa: ['::1'], ttl: 5 });
    const { refresher, sets } = harness();
    await refresher.refresh();
    server.setServfail(true, 'AAAA');
    server.setRecords(NAME, { a: ['127.0.1.1', '127.0.1.2'], aaaa: ['::1'], ttl: 5 });
    await refresher.refresh();
    expect(sets).toEqual([
      ['127.0.1.1', '::1'],
      ['127.0.1.1', '127.0.1.2', '::1'],
    ]);
    expect(refresher.status().nextRefreshAt! - Date.now()).toBeLessThanOrEqual(100);
  });

  it('counts refreshes by result', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 5 });
    const { refresher } = harness();
    await refresher.refresh();
    server.setServfail(true);
    await refresher.refresh();
    server.setServfail(false);
    server.removeName(NAME);
    await refresher.refresh();
    expect(refresher.status().refreshes).toEqual({ resolved: 1, failed: 1, empty: 1 });
  });

  it('keeps the last known good set when the nameserver answers SERVFAIL', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 0 });
    const { refresher, sets, events } = harness();
    await refresher.refresh();
    server.setServfail(true);
    await refresher.refresh();
    expect(events[1]).toMatchObject({ type: 'dns_failed', code: 'ESERVFAIL', keptAddresses: 1 });
    expect(refresher.status().addresses).toEqual(['127.0.1.1']);
    expect(sets).toEqual([['127.0.1.1']]);
  });

  it('keeps the set through NXDOMAIN for emptyGraceMs, then empties the service', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 0 });
    const { refresher, sets, event } = harness({ emptyGraceMs: 400, minRefreshMs: 100 });
    refresher.start();
    await event((e) => e.type === 'dns_resolved');
    server.removeName(NAME);
    const firstEmptyAt = Date.now();
    const empty = await event((e) => e.type === 'dns_empty');
    expect(empty).toMatchObject({ code: 'ENOTFOUND' });
    expect(sets).toEqual([['127.0.1.1']]);
    await event((e) => e.type === 'dns_emptied', 1_500);
    expect(Date.now() - firstEmptyAt).toBeGreaterThanOrEqual(350);
    expect(sets).toEqual([['127.0.1.1'], []]);
    expect(refresher.status().addresses).toEqual([]);
  });

  it('receives a 60-pod answer, which only fits over TCP', async () => {
    const pods = Array.from({ length: 60 }, (_, index) => `127.0.3.${index + 1}`);
    server.setRecords(NAME, { a: pods, ttl: 30 });
    const { refresher, sets } = harness({ timeoutMs: 1_000 });
    await refresher.refresh();
    expect(sets).toEqual([pods]);
    expect(server.stats.truncated).toBeGreaterThanOrEqual(1);
    expect(server.stats.tcpQueries).toBeGreaterThanOrEqual(1);
  });

  it('reports a set to onAddresses only when it changes', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1', '127.0.1.2'], ttl: 0 });
    const { refresher, sets, events } = harness({ minRefreshMs: 50 });
    refresher.start();
    await waitUntil(() => events.length >= 4);
    server.setRecords(NAME, { a: ['127.0.1.2', '127.0.1.1'], ttl: 0 });
    await sleep(150);
    expect(sets).toEqual([['127.0.1.1', '127.0.1.2']]);
    expect(events.filter((e) => e.type === 'dns_resolved' && e.changed)).toHaveLength(1);
  });

  it('stops refreshing and forgets its timer on stop()', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 0 });
    const { refresher, event } = harness({ minRefreshMs: 50 });
    refresher.start();
    await event((e) => e.type === 'dns_resolved');
    refresher.stop();
    const queries = server.stats.udpQueries;
    await sleep(250);
    expect(server.stats.udpQueries).toBe(queries);
    expect(refresher.status().nextRefreshAt).toBeNull();
  });

  it('lets one service resolve while another service’s nameserver is down', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 30 });
    const silent = await LabDnsServer.start({ host: '127.0.0.2' });
    try {
      silent.setSilent(true);
      const broken = harness({ nameservers: [silent.nameserver], timeoutMs: 1_000 });
      const healthy = harness();
      broken.refresher.start();
      healthy.refresher.start();
      await healthy.event((e) => e.type === 'dns_resolved', 500);
      expect(broken.events).toEqual([]);
      // Node checks c-ares timeouts on a timer of the same period, so a query times out after 1 to 2 × timeoutMs.
      await broken.event((e) => e.type === 'dns_failed', 3_000);
      expect(healthy.sets).toEqual([['127.0.1.1']]);
    } finally {
      await silent.close();
    }
  });

  it('goes on refreshing after a listener throws', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 0 });
    let calls = 0;
    const { refresher, event } = harness(
      { minRefreshMs: 50 },
      {
        onAddresses: () => {
          calls += 1;
          if (calls === 1) throw new Error('listener broke');
        },
      },
    );
    refresher.start();
    await event((e) => e.type === 'dns_resolved');
    expect(calls).toBe(2);
    expect(refresher.status()).toMatchObject({ addresses: ['127.0.1.1'], lastError: { code: 'PODGATE_DNS_LISTENER_FAILED' } });
  });

  it('arms a finite timer within the bounds even when its inputs are not numbers (defence in depth, issue 17)', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 1 });
    // A random source that says NaN made the delay NaN, which setTimeout takes as 1 ms.
    const { refresher, events } = harness({ minRefreshMs: 300, maxRefreshMs: 600, jitter: 0.5 }, { random: () => NaN });
    refresher.start();
    await sleep(1_000);
    const resolved = events.filter((e) => e.type === 'dns_resolved');
    expect(resolved.length).toBeGreaterThanOrEqual(1);
    expect(resolved.length).toBeLessThanOrEqual(3);
    for (const e of resolved) expect(e.type === 'dns_resolved' && e.nextRefreshMs).toBe(600);
    const next = refresher.status().nextRefreshAt;
    expect(Number.isFinite(next)).toBe(true);
    expect((next ?? 0) - Date.now()).toBeLessThanOrEqual(600);
  });

  it('rejects bad options with PODGATE_DNS_INVALID_OPTION and the path of the bad key', () => {
    expect(() => harness({ maxRefreshMs: 10 })).toThrow(expect.objectContaining({ code: 'PODGATE_DNS_INVALID_OPTION' }));
    expect(() => harness({ nameservers: ['not a server'] })).toThrow(/dns\.nameservers/);
    expect(() => harness({ jitter: 2 })).toThrow(/dns\.jitter/);
  });
});

describe('DnsRefresher names what went wrong', () => {
  it('names a refused connection and the nameserver when nothing listens on its port, and calls it failing, not empty', async () => {
    // A closed UDP port answers with ICMP port unreachable, which node reports as ECONNREFUSED.
    const gone = await LabDnsServer.start({ host: '127.0.0.3' });
    const nameserver = gone.nameserver;
    await gone.close();
    const { refresher, events } = harness({ nameservers: [nameserver] });
    await refresher.refresh();
    expect(events).toEqual([expect.objectContaining({ type: 'dns_failed', code: 'ECONNREFUSED', cause: `${nameserver}: connection refused`, repeat: 1 })]);
    expect(refresher.status()).toMatchObject({
      condition: 'failing',
      problem: `DNS lookup of ${NAME} failed: ${nameserver}: connection refused`,
      lastError: { code: 'ECONNREFUSED', message: `${nameserver}: connection refused` },
    });
  });

  it('names a timeout with the nameserver, the timeout and the attempts', async () => {
    server.setSilent(true);
    const { refresher, events } = harness({ timeoutMs: 150, attempts: 2 });
    await refresher.refresh();
    expect(events).toEqual([expect.objectContaining({ type: 'dns_failed', code: 'ETIMEOUT', cause: `${server.nameserver}: timed out after 150 ms ×2` })]);
    expect(refresher.status().condition).toBe('failing');
  });

  it('names a SERVFAIL and the nameserver that sent it, with port 53 when the config names none', async () => {
    server.setServfail(true);
    const { refresher, events } = harness();
    await refresher.refresh();
    expect(events[0]).toMatchObject({ type: 'dns_failed', code: 'ESERVFAIL', cause: `SERVFAIL from ${server.nameserver}` });
    // The label only: nothing answers on 127.0.0.4:53 (an unprivileged test cannot bind it).
    const bare = harness({ nameservers: ['127.0.0.4'], timeoutMs: 100 });
    await bare.refresher.refresh();
    expect((bare.events[0] as { cause: string }).cause).toMatch(/^127\.0\.0\.4:53: /);
  });

  it('tells still resolving, a name without records and a failing nameserver apart', async () => {
    const { refresher } = harness({ emptyGraceMs: 0 });
    expect(refresher.status()).toMatchObject({ condition: 'resolving', problem: null });
    await refresher.refresh();
    expect(refresher.status()).toMatchObject({ condition: 'empty', problem: `NXDOMAIN from ${server.nameserver}: ${NAME} does not exist` });
    server.setRecords(NAME, { aaaa: [], a: [] });
    await refresher.refresh();
    expect(refresher.status()).toMatchObject({ condition: 'empty', problem: `NODATA from ${server.nameserver}: ${NAME} has no A or AAAA records` });
    server.setServfail(true);
    await refresher.refresh();
    expect(refresher.status()).toMatchObject({ condition: 'failing', problem: `DNS lookup of ${NAME} failed: SERVFAIL from ${server.nameserver}` });
    server.setServfail(false);
    server.setRecords(NAME, { a: ['127.0.1.1'] });
    await refresher.refresh();
    expect(refresher.status()).toMatchObject({ condition: 'resolved', problem: null, troubleSince: null });
  });
});

describe('DnsRefresher counts repeated failures', () => {
  it('counts identical failures in a row, starts over when the cause changes, and reports the recovery with its length', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 5 });
    const { refresher, events } = harness();
    await refresher.refresh();
    server.setServfail(true);
    const firstFailureAt = Date.now();
    await refresher.refresh();
    await refresher.refresh();
    server.setServfail(false);
    server.setSilent(true);
    await refresher.refresh();
    await refresher.refresh();
    server.setSilent(false);
    await refresher.refresh();
    const failures = events.filter((e) => e.type === 'dns_failed');
    expect(failures.map((e) => [e.code, e.repeat])).toEqual([
      ['ESERVFAIL', 1],
      ['ESERVFAIL', 2],
      ['ETIMEOUT', 1],
      ['ETIMEOUT', 2],
    ]);
    const recovered = events.find((e) => e.type === 'dns_recovered');
    expect(recovered).toMatchObject({ failed: 4, empty: 0, lastCause: `${server.nameserver}: timed out after 200 ms ×1` });
    expect((recovered as { troubleMs: number }).troubleMs).toBeGreaterThanOrEqual(200);
    expect((recovered as { troubleMs: number }).troubleMs).toBeLessThanOrEqual(Date.now() - firstFailureAt);
    expect(events.at(-1)).toMatchObject({ type: 'dns_resolved' });
    expect(refresher.status().troubleSince).toBeNull();
  });
});

describe('DnsRefresher urgent mode', () => {
  it('refreshes at once and then about once a second while urgent, whatever minRefreshMs says, and goes back to its rhythm after', async () => {
    server.setRecords(NAME, { a: ['127.0.1.1'], ttl: 30 });
    const { refresher, events, event } = harness({ minRefreshMs: 30_000, maxRefreshMs: 30_000 });
    refresher.start();
    await event((e) => e.type === 'dns_resolved');
    await sleep(URGENT_REFRESH_MS + 50);
    server.setRecords(NAME, { a: ['127.0.1.2'], ttl: 30 });
    const urgentAt = Date.now();
    refresher.setUrgent(true);
    await event((e) => e.type === 'dns_resolved' && e.addresses[0] === '127.0.1.2', 300);
    expect(Date.now() - urgentAt).toBeLessThan(300);
    // Then once a second: two more refreshes in the next ~2.4 s, not more.
    await sleep(2 * URGENT_REFRESH_MS + 400);
    expect(events.filter((e) => e.type === 'dns_resolved')).toHaveLength(4);
    expect(refresher.status().urgent).toBe(true);
    refresher.setUrgent(false);
    await sleep(URGENT_REFRESH_MS);
    expect(events.filter((e) => e.type === 'dns_resolved')).toHaveLength(5);
    expect((refresher.status().nextRefreshAt ?? 0) - Date.now()).toBeGreaterThan(25_000);
  });
});
