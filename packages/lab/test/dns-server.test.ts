import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabDnsServer } from '../src/dns-server.js';

let server: LabDnsServer;

beforeEach(async () => {
  server = await LabDnsServer.start();
});

afterEach(async () => {
  await server.close();
});

function resolver(timeoutMs = 500): Resolver {
  const client = new Resolver({ timeout: timeoutMs, tries: 1 });
  client.setServers([server.nameserver]);
  return client;
}

function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error as NodeJS.ErrnoException).code,
  );
}

/** Sends one raw datagram and waits up to `waitMs` for a reply (null if none came). */
function udpExchange(port: number, message: Buffer, waitMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => finish(null), waitMs);
    function finish(reply: Buffer | null): void {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    }
    socket.on('message', (reply) => finish(reply));
    socket.send(message, port, '127.0.0.1');
  });
}

describe('LabDnsServer', () => {
  it('binds UDP and TCP on the same loopback port and names itself as a nameserver', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.nameserver).toBe(`127.0.0.1:${server.port}`);
  });

  it('answers A and AAAA questions with the records and their TTL', async () => {
    server.setRecords('web.default.svc.cluster.local', { a: ['127.0.1.1', '127.0.1.2'], aaaa: ['::1', 'fd00::1:2'], ttl: 7 });
    const client = resolver();
    const v4 = await client.resolve4('web.default.svc.cluster.local', { ttl: true });
    const v6 = await client.resolve6('web.default.svc.cluster.local', { ttl: true });
    expect(v4).toEqual([
      { address: '127.0.1.1', ttl: 7 },
      { address: '127.0.1.2', ttl: 7 },
    ]);
    expect(v6).toEqual([
      { address: '::1', ttl: 7 },
      { address: 'fd00::1:2', ttl: 7 },
    ]);
  });

  it('matches names case-insensitively with or without the trailing dot and defaults the TTL to 5 s', async () => {
    server.setRecords('Web.Example.', { a: ['127.0.1.1'] });
    expect(await resolver().resolve4('wEB.example', { ttl: true })).toEqual([{ address: '127.0.1.1', ttl: 5 }]);
  });

  it('answers NXDOMAIN for an unknown or removed name, which node reports as ENOTFOUND', async () => {
    server.setRecords('gone.example', { a: ['127.0.1.1'] });
    server.removeName('GONE.example.');
    expect(await errorCode(resolver().resolve4('gone.example'))).toBe('ENOTFOUND');
    expect(await errorCode(resolver().resolve4('never.example'))).toBe('ENOTFOUND');
  });

  it('answers NODATA for a known name without records of the asked type, which node reports as ENODATA', async () => {
    server.setRecords('v4only.example', { a: ['127.0.1.1'] });
    expect(await errorCode(resolver().resolve6('v4only.example'))).toBe('ENODATA');
    expect(await errorCode(resolver().resolveTxt('v4only.example'))).toBe('ENODATA');
  });

  it('drops every query while silent, so resolvers time out', async () => {
    server.setRecords('web.example', { a: ['127.0.1.1'], ttl: 0 });
    server.setSilent(true);
    expect(await errorCode(resolver(150).resolve4('web.example'))).toBe('ETIMEOUT');
    expect(server.stats.udpQueries).toBeGreaterThanOrEqual(1);
    server.setSilent(false);
    expect(await resolver().resolve4('web.example')).toEqual(['127.0.1.1']);
  });

  it('answers SERVFAIL while told to, which node reports as ESERVFAIL', async () => {
    server.setRecords('web.example', { a: ['127.0.1.1'], ttl: 0 });
    server.setServfail(true);
    expect(await errorCode(resolver().resolve4('web.example'))).toBe('ESERVFAIL');
  });

  it('fails one name with SERVFAIL or silence while other names answer, until told to stop', async () => {
    server.setRecords('search.demo', { a: ['127.0.1.1'], ttl: 0 });
    server.setRecords('web.example', { a: ['127.0.1.2'], ttl: 0 });
    server.failName('Search.Demo.', 'servfail');
    expect(await errorCode(resolver().resolve4('search.demo'))).toBe('ESERVFAIL');
    expect(await resolver().resolve4('web.example')).toEqual(['127.0.1.2']);
    server.failName('search.demo', 'silent');
    expect(await errorCode(resolver(150).resolve4('search.demo'))).toBe('ETIMEOUT');
    server.failName('search.demo', null);
    expect(await resolver().resolve4('search.demo')).toEqual(['127.0.1.1']);
  });

  it('truncates a 60-record answer over UDP and serves it whole over TCP', async () => {
    const addresses = Array.from({ length: 60 }, (_, index) => `127.0.2.${index + 1}`);
    server.setRecords('big.example', { a: addresses, ttl: 0 });
    const answer = await resolver(1_000).resolve4('big.example');
    expect([...answer].sort()).toEqual([...addresses].sort());
    expect(server.stats.truncated).toBeGreaterThanOrEqual(1);
    expect(server.stats.tcpQueries).toBeGreaterThanOrEqual(1);
  });

  it('answers several queries on one TCP connection with length-prefixed messages', async () => {
    server.setRecords('web.example', { a: ['127.0.1.1'] });
    // ID 0xabcd, RD, one question: web.example A IN.
    const query = Buffer.concat([
      Buffer.from('abcd01000001000000000000', 'hex'),
      Buffer.from('\x03web\x07example\x00', 'latin1'),
      Buffer.from('00010001', 'hex'),
    ]);
    const frame = Buffer.concat([Buffer.from([0, query.length]), query]);
    const socket = connect(server.port, '127.0.0.1');
    const replies: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      let received = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          replies.push(received.subarray(2, 2 + received.readUInt16BE(0)));
          received = received.subarray(2 + received.readUInt16BE(0));
        }
        if (replies.length === 2) resolve();
      });
      // Both queries in one write, the second split across the boundary, as a real stream may deliver them.
      socket.write(Buffer.concat([frame, frame.subarray(0, 5)]));
      setTimeout(() => socket.write(frame.subarray(5)), 20);
    });
    socket.destroy();
    for (const reply of replies) {
      expect(reply.readUInt16BE(0)).toBe(0xabcd);
      // QR, AA and RD set; RA clear; NOERROR; one question, one answer.
      expect(reply.readUInt16BE(2)).toBe(0x8500);
      expect(reply.readUInt16BE(6)).toBe(1);
      // The answer name is a compression pointer to the question at offset 12.
      expect(reply.readUInt16BE(query.length)).toBe(0xc00c);
    }
    expect(server.stats.tcpQueries).toBe(2);
  });

  it('survives malformed datagrams: drops what has no header, answers FORMERR when the header parses', async () => {
    expect(await udpExchange(server.port, Buffer.from([1, 2, 3]), 100)).toBeNull();
    // One question whose name claims a 63-byte label that is not there.
    const cut = Buffer.from('beef01000001000000000000' + '3f6162', 'hex');
    const reply = await udpExchange(server.port, cut, 1_000);
    expect(reply?.readUInt16BE(0)).toBe(0xbeef);
    expect((reply?.readUInt16BE(2) ?? 0) & 0x000f).toBe(1);
    // A compression pointer that points at itself must not loop.
    const loop = Buffer.from('beef01000001000000000000' + 'c00c00010001', 'hex');
    expect(((await udpExchange(server.port, loop, 1_000))?.readUInt16BE(2) ?? 0) & 0x000f).toBe(1);
    server.setRecords('web.example', { a: ['127.0.1.1'] });
    expect(await resolver().resolve4('web.example')).toEqual(['127.0.1.1']);
  });

  it('fails with PODGATE_LAB_DNS_BIND_FAILED when the asked port is taken', async () => {
    await expect(LabDnsServer.start({ port: server.port })).rejects.toMatchObject({ code: 'PODGATE_LAB_DNS_BIND_FAILED' });
  });

  it('rejects a non-loopback host, a bad address and a bad name with stable codes', async () => {
    await expect(LabDnsServer.start({ host: '0.0.0.0' })).rejects.toMatchObject({ code: 'PODGATE_LAB_DNS_INVALID_OPTION' });
    expect(() => server.setRecords('web.example', { a: ['::1'] })).toThrow(expect.objectContaining({ code: 'PODGATE_LAB_DNS_INVALID_ADDRESS' }));
    expect(() => server.setRecords('bad..example', { a: [] })).toThrow(expect.objectContaining({ code: 'PODGATE_LAB_DNS_INVALID_NAME' }));
  });
});
