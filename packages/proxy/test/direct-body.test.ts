import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyConfig, serviceConfig } from '@podgate/lab';
import { ProxyServer } from '../src/index.js';
import { readsIntoBuffers } from '../src/front/user-buffer-reads.js';
import { exchange, finals, type RawResponse } from './raw-client.js';

/*
 * Content-Length bodies the native front reads past llhttp, straight into the buffer that holds
 * them (client-connection.ts, DirectBody): every byte must reach the pod in order, whatever the
 * client's writes look like, and what follows a body must be read as the next request.
 */

const PORT = 18331;
const HOSTS = ['127.214.0.1', '127.214.0.2'];
const REQUEST_TIMEOUT_MS = 800;

/** A pod that answers each request with its method, path and the sha256 of the body it read. */
class HashPod {
  readonly server: http.Server;
  /** Requests whose body this pod read whole. */
  served = 0;
  /** Requests whose socket it destroys after reading this many body bytes (a pod dying mid-body). */
  dieAfter: number | null = null;

  constructor(readonly host: string) {
    this.server = http.createServer((req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
        if (this.dieAfter !== null && bytes >= this.dieAfter) req.socket.destroy();
      });
      req.on('end', () => {
        this.served++;
        res.end(JSON.stringify({ pod: host, method: req.method, url: req.url, bytes, sha: hash.digest('hex') }));
      });
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(PORT, this.host, resolve));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const post = (path: string, body: Buffer, extra = ''): Buffer =>
  Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${extra}\r\n`, 'latin1'), body]);
const answer = (r: RawResponse | undefined): { url: string; bytes: number; sha: string; pod: string } => JSON.parse(r?.body ?? '{}');

describe('request bodies read straight into their buffer (native front)', () => {
  const pods = HOSTS.map((h) => new HashPod(h));
  let proxy: ProxyServer;
  let port = 0;
  beforeAll(async () => {
    await Promise.all(pods.map((p) => p.listen()));
    const config = proxyConfig([serviceConfig('svc', PORT)]);
    config.front = 'native';
    config.client.requestTimeoutMs = REQUEST_TIMEOUT_MS;
    proxy = new ProxyServer({ config, logger: pino({ level: 'silent' }) });
    port = (await proxy.listen()).port;
    proxy.setAddresses('svc', HOSTS);
  });
  afterAll(async () => {
    await proxy.close(100);
    await Promise.all(pods.map((p) => p.close()));
  });

  it('runs on a Node whose sockets can read into given buffers', () => {
    // Node 20 has them; without them bodies still arrive whole (as 'data', copied).
    expect(readsIntoBuffers).toBe(true);
  });

  it.each([16 * 1024, 64 * 1024 + 7, 300_000, 1024 * 1024])(
    'delivers a body of %i bytes whole, sent at once or cut anywhere, on one connection',
    async (size) => {
      const body = randomBytes(size);
      const whole = post('/a', body);
      // One write; the head alone, then the body; cuts inside the head, at its end and inside the body, with pauses.
      const cuts = [[], [whole.length - size], [10, whole.length - size - 1, whole.length - size + 1, whole.length - 3]];
      const parts: Buffer[] = [];
      for (const at of cuts) {
        let from = 0;
        for (const to of at) {
          parts.push(whole.subarray(from, to));
          from = to;
        }
        parts.push(whole.subarray(from));
      }
      const x = await exchange(port, parts, { gapMs: 20, waitMs: 5000, until: finals(3) });
      expect(x.responses.map((r) => r.status)).toEqual([200, 200, 200]);
      for (const r of x.responses) expect(answer(r)).toMatchObject({ url: '/a', bytes: size, sha: sha(body) });
    },
  );

  it('reads what follows a body in the same write as the next requests, in order (pipelined)', async () => {
    const a = randomBytes(100_000);
    const b = randomBytes(20_000);
    const chunked = 'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
    const all = Buffer.concat([post('/a', a), Buffer.from('GET /g HTTP/1.1\r\nHost: x\r\n\r\n'), post('/b', b), Buffer.from(chunked), post('/a2', a)]);
    const x = await exchange(port, [all], { waitMs: 5000, until: finals(5) });
    expect(x.responses.map((r) => answer(r).url)).toEqual(['/a', '/g', '/b', '/c', '/a2']);
    const [ra, rg, rb, rc, ra2] = x.responses.map(answer);
    expect([ra?.sha, rg?.bytes, rb?.sha, rc?.sha, ra2?.sha]).toEqual([sha(a), 0, sha(b), sha(Buffer.from('hello')), sha(a)]);
  });

  it('delivers every body whole under random cuts of pipelined requests of every kind (seeded)', async () => {
    let seed = 0x5eed;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 30; round++) {
      // Large bodies (read straight into their buffer), small ones (llhttp's), chunked ones (podgate's
      // decoder) and GETs, in any order: once a connection read a large body into its buffer, it
      // parses later reads where the shared read buffer holds them.
      const requests = Array.from({ length: 1 + rnd(5) }, (_, i) => {
        const path = `/r${round}-${i}`;
        const kind = rnd(4);
        if (kind === 3) return { path, body: Buffer.alloc(0), bytes: Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`) };
        if (kind === 2) {
          const body = randomBytes(1 + rnd(40_000));
          const half = rnd(body.length);
          const chunk = (b: Buffer): string => `${b.length.toString(16)}\r\n${b.toString('latin1')}\r\n`;
          const framed = `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${half > 0 ? chunk(body.subarray(0, half)) : ''}${chunk(body.subarray(half))}0\r\n\r\n`;
          return { path, body, bytes: Buffer.from(framed, 'latin1') };
        }
        const body = randomBytes(kind === 1 ? 1 + rnd(1000) : 16 * 1024 + rnd(150_000));
        return { path, body, bytes: post(path, body) };
      });
      const all = Buffer.concat(requests.map((r) => r.bytes));
      const cuts = Array.from({ length: 1 + rnd(5) }, () => rnd(all.length)).sort((x, y) => x - y);
      const parts: Buffer[] = [];
      let from = 0;
      for (const to of cuts) {
        parts.push(all.subarray(from, to));
        from = to;
      }
      parts.push(all.subarray(from));
      const x = await exchange(port, parts, { gapMs: 3, waitMs: 5000, until: finals(requests.length) });
      expect(x.responses.map((r) => [answer(r).url, answer(r).sha])).toEqual(requests.map((r) => [r.path, sha(r.body)]));
    }
  });

  it('keeps a chunked body whole across reads on a connection that read a large body into its buffer', async () => {
    const big = randomBytes(200_000);
    const chunked = randomBytes(30_000);
    const framed = Buffer.from(
      `POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked.length.toString(16)}\r\n${chunked.toString('latin1')}\r\n0\r\n\r\n`,
      'latin1',
    );
    const bigPost = post('/big', big);
    // The large body in two writes (its buffer takes the socket's reads), then the chunked one cut
    // in three, each a read of its own, then a GET.
    const x = await exchange(
      port,
      [
        bigPost.subarray(0, 50_000),
        bigPost.subarray(50_000),
        framed.subarray(0, 10_000),
        framed.subarray(10_000, 20_000),
        framed.subarray(20_000),
        'GET /g HTTP/1.1\r\nHost: x\r\n\r\n',
      ],
      { gapMs: 40, waitMs: 5000, until: finals(3) },
    );
    expect(x.responses.map((r) => [answer(r).url, answer(r).sha])).toEqual([
      ['/big', sha(big)],
      ['/c', sha(chunked)],
      ['/g', sha(Buffer.alloc(0))],
    ]);
  });

  it('never takes bytes past a body as body, nor a request hidden in a body as a request', async () => {
    // The body is exactly 20,000 bytes that look like requests; a request follows it.
    const smuggle = Buffer.from('GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
    const body = Buffer.alloc(20_000, smuggle);
    const x = await exchange(port, [post('/a', body), 'GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 30, waitMs: 5000 });
    expect(x.responses.map((r) => answer(r).url)).toEqual(['/a', '/after']);
    expect(answer(x.responses[0])).toMatchObject({ bytes: 20_000, sha: sha(body) });
  });

  it('reads a body sent after 100 Continue, then the next request', async () => {
    const body = randomBytes(200_000);
    const head = `POST /expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`;
    const x = await exchange(port, [head, body, 'GET /after HTTP/1.1\r\nHost: x\r\n\r\n'], { gapMs: 50, waitMs: 5000, until: finals(2) });
    expect(x.responses.map((r) => r.status)).toEqual([100, 200, 200]);
    expect(x.responses.slice(1).map((r) => [answer(r).url, answer(r).sha])).toEqual([
      ['/expect', sha(body)],
      ['/after', sha(Buffer.alloc(0))],
    ]);
  });

  it('drops a body whose client left halfway, and keeps serving', async () => {
    const before = pods.reduce((n, p) => n + p.served, 0);
    const body = randomBytes(500_000);
    const whole = post('/gone', body);
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(whole.subarray(0, 200_000));
    await sleep(50);
    socket.destroy();
    await sleep(50);
    expect(pods.reduce((n, p) => n + p.served, 0)).toBe(before);
    const next = randomBytes(400_000);
    const x = await exchange(port, [post('/next', next, 'Connection: close\r\n')], { waitMs: 5000 });
    expect(answer(x.responses[0])).toMatchObject({ url: '/next', sha: sha(next) });
  });

  it('answers 408 to a client too slow to finish its body, then serves the next connection', async () => {
    const body = randomBytes(100_000);
    const whole = post('/slow', body);
    const x = await exchange(port, [whole.subarray(0, 70_000)], { waitMs: REQUEST_TIMEOUT_MS + 2500 });
    expect(x.responses.map((r) => r.status)).toEqual([408]);
    expect(x.closed).toBe(true);
    const y = await exchange(port, [post('/next', body, 'Connection: close\r\n')], { waitMs: 5000 });
    expect(answer(y.responses[0])).toMatchObject({ url: '/next', sha: sha(body) });
  });

  it('sends the whole body again to another pod when the first one closed halfway through it', async () => {
    const body = randomBytes(1024 * 1024);
    pods[0]!.dieAfter = 256 * 1024;
    pods[1]!.dieAfter = 256 * 1024;
    try {
      // Round robin: one of the two tries lands on each pod; let the second pod live.
      pods[1]!.dieAfter = null;
      const answers = [];
      for (let i = 0; i < 4; i++) {
        const x = await exchange(port, [post(`/retry${i}`, body, 'Connection: close\r\n')], { waitMs: 5000 });
        expect(x.responses.map((r) => r.status)).toEqual([200]);
        answers.push(answer(x.responses[0]));
      }
      for (const a of answers) expect(a).toMatchObject({ pod: HOSTS[1], bytes: body.length, sha: sha(body) });
      // Round robin sent one of the first two to the pod that died: it was retried, whole.
      expect(proxy.service('svc')?.counters.retries).toBeGreaterThan(0);
    } finally {
      pods[0]!.dieAfter = null;
      pods[1]!.dieAfter = null;
    }
  });
});
