import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { LabPod } from '../src/pod.js';

// Each test gets its own loopback IP, as each pod has its own IP in a cluster; the third
// octet comes from the pid so parallel test processes do not collide.
let nextHost = 1;
const hostBase = `127.201.${process.pid % 250}`;
const pods: LabPod[] = [];
const agents: Agent[] = [];
const sockets: net.Socket[] = [];

async function startPod(delayMs?: number, keepAliveTimeoutMs?: number): Promise<LabPod> {
  const pod = await LabPod.start({ name: `pod-${nextHost}`, host: `${hostBase}.${nextHost++}`, port: 0, delayMs, keepAliveTimeoutMs });
  pods.push(pod);
  return pod;
}

function agent(): Agent {
  const a = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: 2000 } });
  agents.push(a);
  return a;
}

async function call(pod: LabPod, path: string, init: { method?: string; body?: Buffer; headers?: Record<string, string>; dispatcher?: Agent } = {}) {
  const res = await request(`http://${pod.address}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    body: init.body,
    headers: init.headers,
    dispatcher: init.dispatcher ?? agent(),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

function errorCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code ?? String(err);
}

/** Resolves to 'connected', the error code, or 'timeout' after `ms`. */
function tryConnect(pod: LabPod, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: pod.host, port: pod.port });
    socket.setTimeout(ms, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

/** Sends a raw request and reports how the socket ended and what came back. */
function rawExchange(pod: LabPod, head: string): Promise<{ ended: 'end' | string; data: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: pod.host, port: pod.port }, () => socket.write(head));
    let data = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    socket.setTimeout(3000, () => socket.destroy(new Error('timeout')));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ ended: err.code ?? err.message, data }));
    socket.once('close', () => resolve({ ended: 'end', data }));
  });
}

/** A raw connection to the pod: what came back so far, and whether it closed. */
async function openRaw(pod: LabPod): Promise<{ socket: net.Socket; data: () => string; closed: () => boolean }> {
  const socket = net.connect({ host: pod.host, port: pod.port });
  sockets.push(socket);
  let data = '';
  let closed = false;
  socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
  socket.on('error', () => {});
  socket.once('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, data: () => data, closed: () => closed };
}

/** Polls `check` every 10 ms for up to 2 s. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
  expect(check()).toBe(true);
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(agents.splice(0).map((a) => a.destroy()));
  await Promise.all(pods.splice(0).map((p) => p.close()));
});

describe('LabPod routes', () => {
  it('answers POST /recognize with its name and the body size', async () => {
    const pod = await startPod();
    const res = await call(pod, '/recognize', { method: 'POST', body: Buffer.alloc(70_000) });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ pod: pod.name, bytes: 70_000 });
    expect(pod.served).toBe(1);
  });

  it('rejects a /recognize body over 1 MiB with 413', async () => {
    const pod = await startPod();
    const res = await call(pod, '/recognize', { method: 'POST', body: Buffer.alloc(1024 * 1024 + 1) });
    expect(res.status).toBe(413);
  });

  it('waits delayMs before answering /recognize', async () => {
    const pod = await startPod(150);
    const started = Date.now();
    const res = await call(pod, '/recognize', { method: 'POST', body: Buffer.alloc(10) });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('echoes method, url, headers and body size on /echo', async () => {
    const pod = await startPod();
    const res = await call(pod, '/echo?x=1', { method: 'PUT', body: Buffer.alloc(5), headers: { 'x-forwarded-for': '127.10.0.1' } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ pod: pod.name, method: 'PUT', url: '/echo?x=1', bodyBytes: 5 });
    expect((res.json?.headers as Record<string, string>)['x-forwarded-for']).toBe('127.10.0.1');
  });

  it('answers /status/:code with that status', async () => {
    const pod = await startPod();
    expect((await call(pod, '/status/503')).status).toBe(503);
    expect((await call(pod, '/status/204')).status).toBe(204);
    expect((await call(pod, '/healthz')).status).toBe(200);
    expect((await call(pod, '/nope')).status).toBe(404);
  });

  it('answers /slow/:ms after that many milliseconds', async () => {
    const pod = await startPod();
    const started = Date.now();
    expect((await call(pod, '/slow/200')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('closes the connection before the response head on /close', async () => {
    const pod = await startPod();
    const res = await rawExchange(pod, 'POST /close HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    expect(res).toEqual({ ended: 'end', data: '' });
    await expect(call(pod, '/close')).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
  });

  it('resets the connection on /reset', async () => {
    const pod = await startPod();
    const res = await rawExchange(pod, 'GET /reset HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(res).toEqual({ ended: 'ECONNRESET', data: '' });
  });

  it('sends a head no HTTP parser accepts on /invalid-header', async () => {
    const pod = await startPod();
    // undici 7's wasm parser leaves `code` unset on this error, so match its name.
    await expect(call(pod, '/invalid-header')).rejects.toMatchObject({ name: 'HTTPParserError' });
    expect(pod.served).toBe(1);
  });
});

describe('LabPod termination', () => {
  it('graceful: finishes the in-flight request, then refuses new connects', async () => {
    const pod = await startPod();
    const inFlight = call(pod, '/slow/300');
    await sleep(50);
    expect(pod.inFlight).toBe(1);
    const terminated = pod.terminate('graceful');
    expect(await tryConnect(pod, 1000)).toBe('ECONNREFUSED');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('close');
    await terminated;
    expect(pod.state).toBe('graceful');
    expect(pod.inFlight).toBe(0);
  });

  it('graceful: cuts requests still running when graceMs ends', async () => {
    const pod = await startPod();
    const inFlight = call(pod, '/slow/5000').catch((e: unknown) => e);
    await sleep(50);
    const started = Date.now();
    await pod.terminate('graceful', { graceMs: 200 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(errorCode(await inFlight)).toBe('UND_ERR_SOCKET');
  });

  it('refuse: fails the in-flight request and refuses new connects', async () => {
    const pod = await startPod();
    const inFlight = call(pod, '/slow/2000').catch((e: unknown) => e);
    await sleep(50);
    await pod.terminate('refuse');
    expect(errorCode(await inFlight)).toBe('UND_ERR_SOCKET');
    expect(await tryConnect(pod, 1000)).toBe('ECONNREFUSED');
    expect(pod.state).toBe('refuse');
  });

  it('blackhole: new connects time out and in-flight and kept-alive requests get no answer', async () => {
    const pod = await startPod();
    const dispatcher = agent();
    // Warm a keep-alive connection, then keep one request in flight.
    expect((await call(pod, '/healthz', { dispatcher })).status).toBe(200);
    let settled = false;
    // The pod serves until python holds its socket (tens of ms); this one is still running then,
    // and would have been answered before the connect below times out.
    const inFlight = call(pod, '/slow/800', { dispatcher: agent() }).finally(() => (settled = true));
    inFlight.catch(() => {});
    await sleep(30);
    await pod.terminate('blackhole');
    let keptSettled = false;
    call(pod, '/healthz', { dispatcher })
      .catch(() => {})
      .finally(() => (keptSettled = true));
    expect(await tryConnect(pod, 1000)).toBe('timeout');
    expect(settled).toBe(false);
    expect(keptSettled).toBe(false);
    expect(pod.state).toBe('blackhole');
  });

  it('blackhole: says python3 is missing with LAB_NO_PYTHON', async () => {
    const pod = await startPod();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(pod.terminate('blackhole')).rejects.toMatchObject({ code: 'LAB_NO_PYTHON' });
    } finally {
      process.env.PATH = path;
    }
  });

  it('hang: connects still pass, but no request is answered and no socket is closed', async () => {
    // A 200 ms keep-alive timeout would close the idle kept socket below, were it still running.
    const pod = await startPod(undefined, 200);
    const kept = await openRaw(pod);
    kept.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => kept.data().includes('"ok":true'));
    // One request waiting on its /slow timer, one whose body is half sent.
    let slowSettled = false;
    const slow = call(pod, '/slow/300', { dispatcher: agent() }).finally(() => (slowSettled = true));
    slow.catch(() => {});
    const upload = await openRaw(pod);
    upload.socket.write('POST /recognize HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n');
    upload.socket.write(Buffer.alloc(100_000, 0x61));
    await until(() => pod.inFlight === 2);
    const served = pod.served;

    await pod.terminate('hang');
    expect(pod.state).toBe('hang');
    upload.socket.write(Buffer.alloc(100_000, 0x61));
    kept.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const keptBefore = kept.data().length;
    // The kernel still completes the handshake: a hung process is not a closed port.
    const fresh = await openRaw(pod);
    fresh.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(700);
    expect(await tryConnect(pod, 1000)).toBe('connected');
    expect({ slowSettled, kept: kept.data().length - keptBefore, upload: upload.data(), fresh: fresh.data() }).toEqual({
      slowSettled: false,
      kept: 0,
      upload: '',
      fresh: '',
    });
    expect([kept.closed(), upload.closed(), fresh.closed()]).toEqual([false, false, false]);
    expect(pod.served).toBe(served);
    expect(pod.state).toBe('hang');
  });

  it('hang: only close() ends it, cutting every waiting socket and refusing connects', async () => {
    const pod = await startPod();
    const kept = await openRaw(pod);
    kept.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => kept.data().includes('"ok":true'));
    await pod.terminate('hang');
    const fresh = await openRaw(pod);
    fresh.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(100);
    await pod.close();
    await until(() => kept.closed() && fresh.closed());
    expect(fresh.data()).toBe('');
    expect(await tryConnect(pod, 1000)).toBe('ECONNREFUSED');
    expect(pod.state).toBe('closed');
  });

  it('close frees a blackholed pod so its address can be bound again', async () => {
    const pod = await startPod();
    await pod.terminate('blackhole');
    await pod.close();
    expect(pod.state).toBe('closed');
    const again = await LabPod.start({ name: 'again', host: pod.host, port: pod.port });
    pods.push(again);
    expect((await call(again, '/healthz')).status).toBe(200);
  });
});
