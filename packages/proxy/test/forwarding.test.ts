import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { ProxyServer } from '../src/proxy-server.js';
import { nodeRequest, proxyConfig, serviceConfig } from '@podgate/lab';
import { startHarness, type Harness } from './fixtures.js';
import { FRONTS } from './raw-client.js';

describe.each(FRONTS)('%s front', (front) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(211, 2, {}, front === 'native' ? 18311 : 18312, front);
  });
  afterAll(() => h.close());

  async function echo(headers: Record<string, string>, body?: string) {
    const res = await nodeRequest(`${h.url}/echo`, { method: body === undefined ? 'GET' : 'POST', headers, body });
    return { status: res.status, json: JSON.parse(res.body) as { pod: string; headers: Record<string, string>; bodyBytes: number } };
  }

  describe('forwarding', () => {
    it('balances round robin over the pods', async () => {
      const pods: string[] = [];
      for (let i = 0; i < 4; i++) pods.push((await echo({})).json.pod);
      expect(pods).toEqual(['pod-1', 'pod-2', 'pod-1', 'pod-2']);
    });

    it('strips hop-by-hop headers and those Connection names, keeps end-to-end ones', async () => {
      const { json } = await echo({
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': '1',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        'x-end-to-end': 'yes',
      });
      expect(json.headers['x-secret-hop']).toBeUndefined();
      expect(json.headers['keep-alive']).toBeUndefined();
      expect(json.headers.te).toBeUndefined();
      expect(json.headers['proxy-authorization']).toBeUndefined();
      expect(json.headers['x-end-to-end']).toBe('yes');
    });

    it('keeps the client Host and appends X-Forwarded-For, -Proto and -Host', async () => {
      const { json } = await echo({ host: 'api.example.test', 'x-forwarded-for': '127.9.9.9' });
      expect(json.headers.host).toBe('api.example.test');
      expect(json.headers['x-forwarded-for']).toBe('127.9.9.9, 127.0.0.1');
      expect(json.headers['x-forwarded-proto']).toBe('http');
      expect(json.headers['x-forwarded-host']).toBe('api.example.test');
      expect(json.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-/);
    });

    it('forwards a request body and does not pass Expect on', async () => {
      const { json } = await echo({ expect: '100-continue', 'content-type': 'text/plain' }, 'x'.repeat(5000));
      expect(json.bodyBytes).toBe(5000);
      expect(json.headers.expect).toBeUndefined();
      expect(json.headers['content-length']).toBe('5000');
    });

    it('strips hop-by-hop headers from the response and streams its body', async () => {
      const res = await request(`${h.url}/recognize`, { method: 'POST', body: Buffer.alloc(64 * 1024) });
      expect(res.statusCode).toBe(200);
      // The pod says timeout=5; what reaches the client is podgate's own keep-alive, not the pod's.
      expect(res.headers['keep-alive']).toBe('timeout=7');
      expect(((await res.body.json()) as { bytes: number }).bytes).toBe(64 * 1024);
    });
  });

  describe('forwarding: Connection cannot strip end-to-end essentials', () => {
    it('keeps Host even when Connection names it', async () => {
      const { json } = await echo({ host: 'api.example.test', connection: 'host' });
      expect(json.headers.host).toBe('api.example.test');
    });
  });

  describe('forwarding: response bodies with a Content-Length', () => {
    // One pod that sends 3 MiB in three writes 20 ms apart: the body reaches the client in many
    // chunks, the last of which ends the response.
    const BODY = Buffer.alloc(3 * 1024 * 1024, 0);
    for (let i = 0; i < BODY.length; i += 4096) BODY.writeUInt32BE(i, i);
    const third = BODY.length / 3;
    const podHost = front === 'native' ? '127.219.0.1' : '127.219.0.2';
    let pod: Server;
    let proxy: ProxyServer;
    let url: string;
    beforeAll(async () => {
      pod = createServer((req, res) => {
        if (req.url === '/empty') return void res.writeHead(200, { 'content-length': '0' }).end();
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BODY.length) });
        if (req.method === 'HEAD') return void res.end();
        res.write(BODY.subarray(0, third));
        setTimeout(() => res.write(BODY.subarray(third, 2 * third)), 20);
        setTimeout(() => res.end(BODY.subarray(2 * third)), 40);
      });
      await new Promise<void>((resolve) => pod.listen(18219, podHost, resolve));
      const config = proxyConfig([serviceConfig('big', 18219)]);
      config.front = front;
      proxy = new ProxyServer({ config, logger: pino({ level: 'silent' }) });
      url = `http://127.0.0.1:${(await proxy.listen()).port}`;
      proxy.setAddresses('big', [podHost]);
    });
    afterAll(async () => {
      await proxy.close(100);
      await new Promise((resolve) => pod.close(resolve));
    });

    it('delivers every byte, twice on one connection, to a client that reads slowly', async () => {
      const agent = new Agent({ connections: 1 });
      try {
        for (let round = 0; round < 2; round++) {
          const res = await request(url, { dispatcher: agent });
          expect(res.headers['content-length']).toBe(String(BODY.length));
          const chunks: Buffer[] = [];
          for await (const chunk of res.body as AsyncIterable<Buffer>) {
            chunks.push(chunk);
            // A slow reader: podgate must wait for the client (backpressure) and still end the body.
            if (chunks.length % 16 === 0) await sleep(5);
          }
          expect(Buffer.concat(chunks).equals(BODY)).toBe(true);
        }
      } finally {
        await agent.close();
      }
    });

    it('ends a response whose Content-Length is 0', async () => {
      const res = await request(`${url}/empty`, { headersTimeout: 2000, bodyTimeout: 2000 });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-length']).toBe('0');
      expect((await res.body.arrayBuffer()).byteLength).toBe(0);
    });

    it('answers HEAD with the Content-Length and no body', async () => {
      const res = await request(url, { method: 'HEAD' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-length']).toBe(String(BODY.length));
      expect((await res.body.arrayBuffer()).byteLength).toBe(0);
    });
  });
});
