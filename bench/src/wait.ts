import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** One request; resolves with the status and body, or rejects on a socket error or after timeoutMs. */
export function httpOnce(url: string, options: { method?: string; body?: Buffer; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', agent: false, timeout: options.timeoutMs ?? 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 2000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls until `url` answers 200 (a proxy is up and has found its pods), at most timeoutMs. */
export async function waitForHttp(url: string, timeoutMs: number, isAlive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (isAlive !== undefined && !isAlive()) throw new Error(`${url}: the server exited while starting`);
    try {
      const res = await httpOnce(url, { timeoutMs: 1000 });
      if (res.status === 200) return;
      last = `status ${res.status}: ${res.body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

/** Which of these host:port pairs something already listens on (a stray server from an earlier run, another program). */
export async function listeningAlready(addresses: ReadonlyArray<{ host: string; port: number }>): Promise<string[]> {
  const taken = await Promise.all(
    addresses.map(
      ({ host, port }) =>
        new Promise<string | null>((resolve) => {
          const socket = connect({ host, port });
          socket.setTimeout(1000, () => (socket.destroy(), resolve(null)));
          socket.once('connect', () => (socket.destroy(), resolve(`${host}:${port}`)));
          socket.once('error', () => resolve(null));
        }),
    ),
  );
  return taken.filter((t): t is string => t !== null);
}
