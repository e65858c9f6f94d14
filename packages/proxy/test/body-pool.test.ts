import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { giveBodyBuffer, noteCorks, POOLED_MAX_BYTES, POOLED_MIN_BYTES, socketStillSending, takeBodyBuffer } from '../src/body-pool.js';
import { RequestBody } from '../src/request-body.js';
import { ProxyServer } from '../src/proxy-server.js';
import { proxyConfig, serviceConfig } from '@podgate/lab';

describe('body buffers', () => {
  it('are known to be flushed only when the socket handed every byte to the kernel', async () => {
    const held: net.Socket[] = [];
    // A peer that reads nothing: the kernel's buffers (a few MiB on loopback) fill and stay full.
    const server = net.createServer((s) => {
      s.pause();
      held.push(s);
    });
    await new Promise<void>((resolve) => server.listen(18222, '127.221.0.2', resolve));
    const socket = net.connect(18222, '127.221.0.2');
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      noteCorks(socket);
      socket.cork();
      socket.write(Buffer.alloc(1024, 1));
      socket.uncork();
      expect(socketStillSending()).toBe('flushed');
      socket.cork();
      socket.write(Buffer.alloc(64 * 1024 * 1024, 2));
      socket.uncork();
      expect(socketStillSending()).toBe(socket);
      // Asked once per write: a second answer without a cork in between is unknown.
      expect(socketStillSending()).toBe('unknown');
    } finally {
      socket.destroy();
      for (const s of held) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('still being sent go back to the pool once their socket drained, not before', async () => {
    const held: net.Socket[] = [];
    const server = net.createServer((s) => {
      s.pause();
      held.push(s);
    });
    await new Promise<void>((resolve) => server.listen(18223, '127.221.0.2', resolve));
    const socket = net.connect(18223, '127.221.0.2');
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      const body = RequestBody.buffer([Buffer.alloc(POOLED_MAX_BYTES, 3)], POOLED_MAX_BYTES);
      const sent = body.forTry() as Buffer;
      noteCorks(socket);
      socket.cork();
      // More than loopback's kernel buffers hold while the peer reads nothing.
      for (let i = 0; i < 64; i++) socket.write(sent);
      socket.uncork();
      const sending = socketStillSending();
      expect(sending).toBe(socket);
      body.sendingOn(socket);
      body.release();
      const meanwhile = takeBodyBuffer(POOLED_MAX_BYTES);
      expect(meanwhile.buffer).not.toBe(sent.buffer);
      giveBodyBuffer(meanwhile);
      const drained = new Promise((resolve) => socket.once('drain', resolve));
      for (const s of held) s.resume();
      await drained;
      // The pool hands out its most recent buffer first: the body's, now that nothing reads it.
      expect(takeBodyBuffer(POOLED_MAX_BYTES).buffer).toBe(sent.buffer);
      expect(socket.listenerCount('drain')).toBe(0);
    } finally {
      socket.destroy();
      for (const s of held) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('of a body that a socket may still be sending are not reused', () => {
    const kept = RequestBody.buffer([Buffer.alloc(100 * 1024, 1)], 100 * 1024);
    const sent = kept.forTry() as Buffer;
    kept.keep();
    kept.release();
    const next = takeBodyBuffer(100 * 1024);
    expect(next.buffer).not.toBe(sent.buffer);
    const done = RequestBody.buffer([Buffer.alloc(50 * 1024, 1), Buffer.alloc(50 * 1024, 2)], 100 * 1024);
    const body = done.forTry() as Buffer;
    expect(body.length).toBe(100 * 1024);
    expect([body[0], body[100 * 1024 - 1]]).toEqual([1, 2]);
    done.release();
    expect(takeBodyBuffer(100 * 1024).buffer).toBe(body.buffer);
  });

  it('are reused once given back, by size class', () => {
    const a = takeBodyBuffer(64 * 1024);
    expect(a.length).toBe(64 * 1024);
    giveBodyBuffer(a);
    expect(takeBodyBuffer(40 * 1024)).toBe(a);
    const b = takeBodyBuffer(POOLED_MIN_BYTES + 1);
    expect(b.length).toBe(2 * POOLED_MIN_BYTES);
    expect(takeBodyBuffer(POOLED_MAX_BYTES).length).toBe(POOLED_MAX_BYTES);
  });
});

/**
 * A pod that answers a request as soon as its head arrives and reads its body only later (a pod
 * may answer early). Every body byte it ever reads is recorded per request, by the letter the
 * client filled that body with.
 */
class EarlyAnswerPod {
  readonly bodies = new Map<string, Buffer[]>();
  private readonly server = net.createServer((s) => this.serve(s));

  static async start(host: string, port: number): Promise<EarlyAnswerPod> {
    const pod = new EarlyAnswerPod();
    await new Promise<void>((resolve) => pod.server.listen(port, host, resolve));
    return pod;
  }

  private serve(socket: net.Socket): void {
    let buffered = Buffer.alloc(0);
    let current: { name: string; left: number } | null = null;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (current === null) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end === -1) return;
          const head = buffered.subarray(0, end).toString('latin1');
          buffered = buffered.subarray(end + 4);
          const name = head.split(' ')[1] ?? '';
          current = { name, left: Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0) };
          this.bodies.set(name, []);
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
          // Reads nothing more for a while: the proxy's socket cannot send the whole body now.
          socket.pause();
          setTimeout(() => socket.resume(), 300);
          continue;
        }
        const take = buffered.subarray(0, current.left);
        this.bodies.get(current.name)?.push(take);
        current.left -= take.length;
        buffered = buffered.subarray(take.length);
        if (current.left > 0) return;
        current = null;
      }
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('a body still queued on a socket', () => {
  let pod: EarlyAnswerPod;
  let proxy: ProxyServer;
  let url: string;
  beforeAll(async () => {
    pod = await EarlyAnswerPod.start('127.221.0.1', 18221);
    proxy = new ProxyServer({ config: proxyConfig([serviceConfig('early', 18221, { keepalive: { connections: 1 } })]), logger: pino({ level: 'silent' }) });
    url = `http://127.0.0.1:${(await proxy.listen()).port}`;
    proxy.setAddresses('early', ['127.221.0.1']);
  });
  afterAll(async () => {
    await proxy.close(100);
    await pod.close();
  });

  // Here the kernel takes each 1 MiB body at once, so every body is flushed and its buffer reused
  // by the next request: the bytes the pod reads later must still be the first request's.
  it('is never overwritten by a later request, even when the pod answered first', async () => {
    const letters = ['A', 'B', 'C', 'D'];
    for (const letter of letters) {
      const res = await request(`${url}/${letter}`, { method: 'POST', body: Buffer.alloc(POOLED_MAX_BYTES, letter) });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    }
    // The pod reads what was queued once it resumes.
    await sleep(1500);
    for (const letter of letters) {
      const got = Buffer.concat(pod.bodies.get(`/${letter}`) ?? []);
      const other = got.findIndex((byte) => byte !== letter.charCodeAt(0));
      expect(other, `body of /${letter}: ${got.length} bytes, first foreign byte at ${other}`).toBe(-1);
    }
  });
});
