import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyServer } from '../src/index.js';
import { proxyConfig, serviceConfig } from '@podgate/lab';
import { exchange, finals, FRONTS } from './raw-client.js';

// podgate's own HTTP/1.1 server side (src/front): framing of responses the pod sent without a
// Content-Length, the fields podgate adds or drops, keep-alive and pipelining. The pod is raw TCP so
// it can answer chunked, by close, or without a Date, which a node:http pod never does.
const POD_HOST = '127.224.0.1';
const POD_PORT = 18224;
const KEEP_ALIVE_MS = 400;

const CHUNKED = 'HTTP/1.1 200 OK\r\ndate: Mon, 01 Jan 2024 00:00:00 GMT\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n';

// Small enough for the pod's whole answer to reach podgate in one read (no backpressure to undici).
const MID = 'm'.repeat(8 * 1024);

function answer(socket: net.Socket, head: string): void {
  const [line = ''] = head.split('\r\n');
  const [method = '', path = ''] = line.split(' ');
  if (path === '/chunked') socket.write(method === 'HEAD' ? CHUNKED.slice(0, CHUNKED.indexOf('\r\n\r\n') + 4) : CHUNKED);
  else if (path === '/eof') socket.end('HTTP/1.1 200 OK\r\ndate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\nuntil the close');
  else if (path === '/no-date') socket.write('HTTP/1.1 204 No Content\r\n\r\n');
  else if (path === '/named') socket.write('HTTP/1.1 200 OK\r\nconnection: x-hop\r\nx-hop: secret\r\nx-kept: yes\r\ncontent-length: 2\r\n\r\nok');
  else if (path === '/mid') socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${MID.length}\r\n\r\n${MID}`);
  else if (path === '/slow') setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nslow'), 150);
  else socket.write('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
}

let pod: net.Server;
let podRequests = 0;

beforeAll(async () => {
  pod = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        // podgate's liveness probe of a slow try (OPTIONS *) is not a client's request.
        if (!buffered.startsWith('OPTIONS * ')) podRequests++;
        answer(socket, buffered.slice(0, end));
        buffered = buffered.slice(end + 4);
      }
    });
  });
  await new Promise<void>((resolve) => pod.listen(POD_PORT, POD_HOST, resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => pod.close(() => resolve()));
});

describe.each(FRONTS)('%s front', (front) => {
  let proxy: ProxyServer;
  let port = 0;

  beforeAll(async () => {
    const config = proxyConfig([serviceConfig('svc', POD_PORT)]);
    config.client.keepAliveTimeoutMs = KEEP_ALIVE_MS;
    config.client.headerTimeoutMs = 1000;
    config.front = front;
    proxy = new ProxyServer({ config, logger: pino({ level: 'silent' }) });
    port = (await proxy.listen()).port;
    proxy.setAddresses('svc', [POD_HOST]);
  });

  afterAll(() => proxy.close(100));

  describe('client side: response framing', () => {
    it('sends a chunked pod response chunked to an HTTP/1.1 client and keeps the connection for the next', async () => {
      const x = await exchange(port, ['GET /chunked HTTP/1.1\r\nHost: x\r\n\r\nGET /chunked HTTP/1.1\r\nHost: x\r\n\r\n'], { until: finals(2) });
      expect(x.responses.map((r) => [r.status, r.body, r.headers['transfer-encoding'], r.headers.connection])).toEqual([
        [200, 'abcdefg', 'chunked', 'keep-alive'],
        [200, 'abcdefg', 'chunked', 'keep-alive'],
      ]);
    });

    it('sends a body of unknown length to an HTTP/1.0 client until the close', async () => {
      const x = await exchange(port, ['GET /eof HTTP/1.0\r\nHost: x\r\n\r\n']);
      expect(x.closed).toBe(true);
      const [head = '', body] = x.text.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(head.toLowerCase()).toContain('connection: close');
      expect(head.toLowerCase()).not.toContain('transfer-encoding');
      expect(body).toBe('until the close');
    });

    it('ends a chunked pod response to a keep-alive HTTP/1.0 client by closing, not chunked', async () => {
      const x = await exchange(port, ['GET /chunked HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n']);
      expect(x.closed).toBe(true);
      expect(x.text.split('\r\n\r\n')[1]).toBe('abcdefg');
    });

    it('answers a HEAD without a body or chunked framing', async () => {
      const x = await exchange(port, ['HEAD /chunked HTTP/1.1\r\nHost: x\r\n\r\nGET /no-date HTTP/1.1\r\nHost: x\r\n\r\n'], { until: finals(2) });
      expect(x.responses.map((r) => r.status)).toEqual([200, 204]);
      expect(x.responses[0]?.headers['transfer-encoding']).toBeUndefined();
    });
  });

  describe('client side: fields', () => {
    it("keeps the pod's Date and adds one when the pod sent none", async () => {
      const x = await exchange(port, ['GET /chunked HTTP/1.1\r\nHost: x\r\n\r\nGET /no-date HTTP/1.1\r\nHost: x\r\n\r\n'], { until: finals(2) });
      expect(x.responses[0]?.headers.date).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
      const added = Date.parse(x.responses[1]?.headers.date ?? '');
      expect(Math.abs(added - Date.now())).toBeLessThan(5000);
    });

    it("drops the fields the pod's Connection header names and keeps the rest", async () => {
      const x = await exchange(port, ['GET /named HTTP/1.1\r\nHost: x\r\n\r\n'], { until: finals(1) });
      const r = x.responses[0];
      expect(r?.headers['x-hop']).toBeUndefined();
      expect(r?.headers['x-kept']).toBe('yes');
      expect(r?.headers.connection).toBe('keep-alive');
      expect(r?.body).toBe('ok');
    });
  });

  describe('client side: connections', () => {
    it('closes a keep-alive connection idle past the keep-alive timeout it announced', async () => {
      const x = await exchange(port, ['GET /named HTTP/1.1\r\nHost: x\r\n\r\n'], { waitMs: KEEP_ALIVE_MS + 2000 });
      expect(x.responses[0]?.headers['keep-alive']).toBe('timeout=0');
      expect(x.closed).toBe(true);
      expect(x.ms).toBeGreaterThanOrEqual(KEEP_ALIVE_MS);
      expect(x.ms).toBeLessThan(KEEP_ALIVE_MS + 1000);
    });

    it('answers the request in flight, then the 400 of a malformed one pipelined after it, then closes', async () => {
      const before = podRequests;
      const x = await exchange(port, ['GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /e cho HTTP/1.1\r\nHost: x\r\n\r\n'], { waitMs: 2000 });
      expect(x.responses.map((r) => [r.status, r.headers.connection])).toEqual([
        [200, 'keep-alive'],
        [400, 'close'],
      ]);
      expect(x.responses[0]?.body).toBe('slow');
      expect(x.closed).toBe(true);
      expect(podRequests - before).toBe(1);
    });

    it('stops taking pipelined requests from a client that does not read its answers, and answers them all once it does', async () => {
      const count = 3000; // 24 MiB of answers: more than the kernel's buffers hold
      const before = podRequests;
      const socket = net.connect(port, '127.0.0.1');
      socket.pause();
      socket.write('GET /mid HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(count));
      await new Promise((r) => setTimeout(r, 1000));
      const whileStalled = podRequests - before;
      expect(whileStalled).toBeGreaterThan(0);
      expect(whileStalled).toBeLessThan(count / 2);
      let received = 0;
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.resume();
      // Until every request reached the pod and the answers stopped coming.
      const deadline = Date.now() + 10_000;
      let last = -1;
      while ((podRequests - before < count || received !== last) && Date.now() < deadline) {
        last = received;
        await new Promise((r) => setTimeout(r, 100));
      }
      socket.destroy();
      expect(podRequests - before).toBe(count);
      expect(received).toBeGreaterThan(count * MID.length);
    });

    it('keeps an HTTP/1.0 keep-alive connection open for the next request', async () => {
      const x = await exchange(
        port,
        ['GET /named HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\nGET /named HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n'],
        { until: finals(2) },
      );
      expect(x.responses.map((r) => [r.status, r.body, r.headers.connection])).toEqual([
        [200, 'ok', 'keep-alive'],
        [200, 'ok', 'keep-alive'],
      ]);
    });

    it('answers 417 to an unknown expectation on a request without a body, without reaching the pod', async () => {
      const before = podRequests;
      const x = await exchange(port, ['GET /named HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n']);
      expect(x.responses.map((r) => r.status)).toEqual([417]);
      expect(x.closed).toBe(true);
      expect(podRequests - before).toBe(0);
    });

    it('reads a request split into single bytes', async () => {
      const raw = 'GET /named HTTP/1.1\r\nHost: x\r\n\r\n';
      const x = await exchange(port, [...raw], { gapMs: 2, until: finals(1) });
      expect(x.responses.map((r) => r.body)).toEqual(['ok']);
    });
  });
});
