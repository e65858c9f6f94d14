import { Resolver } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { LabDnsServer } from '../src/dns-server.js';

// Issue 12: a caching resolver between podgate and the cluster DNS that serves the previous answer
// for a while after each change. Every query here goes over the real wire (node's c-ares resolver).
const NAME = 'image-lobby.lab.svc.cluster.local';
const servers: LabDnsServer[] = [];
let clock = 1_000_000;

async function start(options: { staleMs?: number; realClock?: boolean } = {}): Promise<LabDnsServer> {
  const server = await LabDnsServer.start({ staleMs: options.staleMs, now: options.realClock === true ? undefined : () => clock });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The A records answered now, with their TTL, or the error code (ENOTFOUND for NXDOMAIN). */
async function ask(server: LabDnsServer): Promise<string> {
  const client = new Resolver({ timeout: 1000, tries: 2 });
  client.setServers([server.nameserver]);
  try {
    const answer = await client.resolve4(NAME, { ttl: true });
    return answer.map((r) => `${r.address}/${r.ttl}`).join(' ');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

describe('LabDnsServer as a stale caching resolver', () => {
  it('serves the previous answer for staleMs after a change, then the new one with its own TTL', async () => {
    const server = await start();
    server.setRecords(NAME, { a: ['127.0.1.1', '127.0.1.2'], ttl: 5 });
    server.setStaleMs(10_000);
    server.setRecords(NAME, { a: ['127.0.1.3'], ttl: 30 });
    expect(await ask(server)).toBe('127.0.1.1/5 127.0.1.2/5');
    clock += 9_999;
    expect(await ask(server)).toBe('127.0.1.1/5 127.0.1.2/5');
    clock += 1;
    expect(await ask(server)).toBe('127.0.1.3/30');
  });

  it('makes each of successive changes visible staleMs after it was made', async () => {
    const server = await start();
    server.setRecords(NAME, { a: ['127.0.1.1'] });
    server.setStaleMs(10_000);
    const t0 = clock;
    server.setRecords(NAME, { a: ['127.0.1.1', '127.0.1.2'] });
    clock = t0 + 3_000;
    server.setRecords(NAME, { a: ['127.0.1.2'] });
    clock = t0 + 5_000;
    expect(await ask(server)).toBe('127.0.1.1/5');
    clock = t0 + 10_000;
    expect(await ask(server)).toBe('127.0.1.1/5 127.0.1.2/5');
    clock = t0 + 12_999;
    expect(await ask(server)).toBe('127.0.1.1/5 127.0.1.2/5');
    clock = t0 + 13_000;
    expect(await ask(server)).toBe('127.0.1.2/5');
  });

  it('delays a removal too: the old records for staleMs, then NXDOMAIN', async () => {
    const server = await start();
    server.setRecords(NAME, { a: ['127.0.1.1'] });
    server.setStaleMs(2_000);
    server.removeName(NAME);
    clock += 1_999;
    expect(await ask(server)).toBe('127.0.1.1/5');
    clock += 1;
    expect(await ask(server)).toBe('ENOTFOUND');
  });

  it('as a start option, answers NXDOMAIN for a name set after start until staleMs passed', async () => {
    const server = await start({ staleMs: 4_000 });
    expect(server.staleMs).toBe(4_000);
    server.setRecords(NAME, { a: ['127.0.1.1'] });
    clock += 3_999;
    expect(await ask(server)).toBe('ENOTFOUND');
    clock += 1;
    expect(await ask(server)).toBe('127.0.1.1/5');
  });

  it('applies a new staleness to later changes only, and never shows an older answer after a newer one', async () => {
    const server = await start();
    server.setRecords(NAME, { a: ['127.0.1.1'] });
    server.setStaleMs(10_000);
    server.setRecords(NAME, { a: ['127.0.1.2'] });
    clock += 1_000;
    server.setStaleMs(0);
    server.setRecords(NAME, { a: ['127.0.1.3'] });
    expect(await ask(server)).toBe('127.0.1.3/5');
    clock += 10_000;
    expect(await ask(server)).toBe('127.0.1.3/5');
  });

  it('with the real clock, shows a change only once staleMs passed', async () => {
    const server = await start({ realClock: true });
    server.setRecords(NAME, { a: ['127.0.1.1'] });
    server.setStaleMs(400);
    const changedAt = Date.now();
    server.setRecords(NAME, { a: ['127.0.1.2'] });
    const early = await ask(server);
    // Only meaningful if the query was answered well inside the 400 ms (a loaded machine may lag).
    if (Date.now() - changedAt < 300) expect(early).toBe('127.0.1.1/5');
    await sleep(Math.max(0, changedAt + 450 - Date.now()));
    expect(await ask(server)).toBe('127.0.1.2/5');
  });

  it('rejects a negative, fractional or absurd staleMs with PODGATE_LAB_DNS_INVALID_OPTION', async () => {
    await expect(LabDnsServer.start({ staleMs: -1 })).rejects.toMatchObject({ code: 'PODGATE_LAB_DNS_INVALID_OPTION' });
    const server = await start();
    for (const bad of [1.5, Number.NaN, 10 * 24 * 3600_000]) {
      expect(() => server.setStaleMs(bad)).toThrow(expect.objectContaining({ code: 'PODGATE_LAB_DNS_INVALID_OPTION' }));
    }
    expect(server.staleMs).toBe(0);
  });
});
