import net from 'node:net';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LabRedis } from '../src/index.js';

/** One inline command over a fresh connection, the first reply line back. */
function command(redis: LabRedis, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: redis.host, port: redis.port });
    let reply = '';
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      const end = reply.indexOf('\r\n');
      if (end < 0) return;
      const first = reply.slice(0, end);
      // A bulk string's value is on the next line.
      if (first.startsWith('$') && first !== '$-1') {
        const next = reply.indexOf('\r\n', end + 2);
        if (next < 0) return;
        resolve(reply.slice(end + 2, next));
      } else resolve(first);
      socket.destroy();
    });
  });
}

describe('LabRedis: a redis-server that the test owns', () => {
  const started: LabRedis[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((r) => r.close()));
  });

  it('serves on a loopback port from a temp dir and is gone, dir and all, after close', async () => {
    const redis = await LabRedis.start();
    started.push(redis);
    expect(redis.host).toBe('127.0.0.1');
    expect(await command(redis, 'PING')).toBe('+PONG');
    expect(existsSync(redis.dir)).toBe(true);
    const pid = redis.pid as number;
    await redis.close();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('keeps what it acknowledged across kill -9 with appendonly, and loses it without', async () => {
    const durable = await LabRedis.start({ appendonly: true });
    const volatile = await LabRedis.start();
    started.push(durable, volatile);
    for (const r of [durable, volatile]) expect(await command(r, 'SET k acknowledged')).toBe('+OK');
    for (const r of [durable, volatile]) {
      await r.kill9();
      expect(r.running).toBe(false);
      await r.restart();
    }
    expect(await command(durable, 'GET k')).toBe('acknowledged');
    expect(await command(volatile, 'GET k')).toBe('$-1');
  });
});
