import { LabPod } from '@podgate/lab';
import net from 'node:net';
import { pino } from 'pino';
import { expect } from 'vitest';
import { ProxyServer } from '../src/index.js';
import type { FrontSetting } from '../src/front/front-choice.js';
import { proxyConfig, serviceConfig } from '@podgate/lab';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Exchange {
  /** Every byte the proxy sent, latin1. */
  text: string;
  /** The complete responses in `text`, in order (1xx included). */
  responses: RawResponse[];
  /** The proxy closed the connection (rather than the wait running out). */
  closed: boolean;
  ms: number;
}

/**
 * Writes `parts` on one raw connection, `gapMs` apart, and reads until the proxy closes it, `until`
 * holds for the responses so far, or `waitMs` passes (then the test side closes it).
 */
export function exchange(
  port: number,
  parts: readonly (string | Buffer)[],
  options: { gapMs?: number; waitMs?: number; until?: (responses: RawResponse[]) => boolean } = {},
): Promise<Exchange> {
  const { gapMs = 0, waitMs = 1500, until } = options;
  return new Promise((resolve) => {
    const start = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      resolve({ text, responses: parseResponses(text), closed, ms: Date.now() - start });
    };
    timers.push(setTimeout(() => finish(false), waitMs));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (until !== undefined && until(parseResponses(text))) finish(false);
    });
    // A reset after the proxy refused the request is a close too.
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    parts.forEach((part, i) => {
      const write = (): void => {
        if (!socket.destroyed) socket.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
      };
      if (i === 0 || gapMs === 0) write();
      else timers.push(setTimeout(write, i * gapMs));
    });
  });
}

/** Complete HTTP/1.1 responses at the start of `text` (Content-Length or chunked bodies). */
export function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = text.slice(at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
    if (Number.isNaN(status)) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let bodyAt = end + 4;
    let body = '';
    if (status >= 200 && headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const sizeEnd = text.indexOf('\r\n', bodyAt);
        if (sizeEnd < 0) return out;
        const size = parseInt(text.slice(bodyAt, sizeEnd), 16);
        if (text.length < sizeEnd + 2 + size + 2) return out;
        body += text.slice(sizeEnd + 2, sizeEnd + 2 + size);
        bodyAt = sizeEnd + 2 + size + 2;
        if (size === 0) break;
      }
    } else if (status >= 200) {
      const length = Number(headers['content-length'] ?? 0);
      if (text.length < bodyAt + length) break;
      body = text.slice(bodyAt, bodyAt + length);
      bodyAt += length;
    }
    out.push({ status, headers, body });
    at = bodyAt;
  }
  return out;
}

/** Stops reading once `n` final (non-1xx) responses arrived. */
export const finals =
  (n: number) =>
  (responses: RawResponse[]): boolean =>
    responses.filter((r) => r.status >= 200).length >= n;

export interface HostileHarness {
  proxy: ProxyServer;
  port: number;
  pods: LabPod[];
  /** Requests all pods answered so far. */
  served(): number;
  close(): Promise<void>;
}

export const POD_PORT = 18313;
export const HEADER_TIMEOUT_MS = 300;
export const REQUEST_TIMEOUT_MS = 700;
export const BUFFER_BYTES = 1024;
export const MAX_BODY_BYTES = 4096;

/**
 * A proxy over two lab pods on 127.213.<net>.1-2, with the fixture's client limits except short
 * header/request timeouts, and small body limits so the streamed-body path is cheap to reach;
 * `front` serves its clients.
 */
export async function startHostileHarness(net: number, front: FrontSetting = 'native'): Promise<HostileHarness> {
  const pods = [
    await LabPod.start({ name: 'pod-1', host: `127.213.${net}.1`, port: POD_PORT }),
    await LabPod.start({ name: 'pod-2', host: `127.213.${net}.2`, port: POD_PORT }),
  ];
  const config = proxyConfig([serviceConfig('svc', POD_PORT, { body: { bufferBytes: BUFFER_BYTES, maxBytes: MAX_BODY_BYTES } })]);
  config.client.headerTimeoutMs = HEADER_TIMEOUT_MS;
  config.client.requestTimeoutMs = REQUEST_TIMEOUT_MS;
  config.front = front;
  const proxy = new ProxyServer({ config, logger: pino({ level: 'silent' }) });
  const { port } = await proxy.listen();
  expect(proxy.frontKind).toBe(front);
  proxy.setAddresses(
    'svc',
    pods.map((p) => p.host),
  );
  return {
    proxy,
    port,
    pods,
    served: () => pods.reduce((sum, p) => sum + p.served, 0),
    async close() {
      await proxy.close(100);
      await Promise.all(pods.map((p) => p.close()));
    },
  };
}

interface Echo {
  pod: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  bodyBytes: number;
}

/** The lab pod's /echo answers in an exchange, each checked for the CL + TE smuggling pair. */
export function echoes(x: Exchange): Echo[] {
  const out: Echo[] = [];
  for (const r of x.responses) {
    if (r.status !== 200) continue;
    const echo = JSON.parse(r.body) as Echo;
    if (echo.pod === undefined) continue;
    expect(
      echo.headers['content-length'] !== undefined && echo.headers['transfer-encoding'] !== undefined,
      'a pod got both Content-Length and Transfer-Encoding',
    ).toBe(false);
    out.push(echo);
  }
  return out;
}

/**
 * After a hostile request: the proxy still answers a plain request through a pod, no pod ever got
 * both Content-Length and Transfer-Encoding, and no pod was ejected for the client's fault.
 */
export async function expectStillServing(h: HostileHarness): Promise<void> {
  const x = await exchange(h.port, ['POST /echo HTTP/1.1\r\nHost: ok.test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi'], { until: finals(1) });
  expect(x.responses.map((r) => r.status)).toEqual([200]);
  expect(echoes(x)[0]?.bodyBytes).toBe(2);
  for (const pod of h.pods) expect(h.proxy.service('svc')?.table.get(`${pod.host}:${POD_PORT}`)?.state).toBe('active');
}

/** Both fronts, for suites that run against each (docs/http-front.md, "Which front serves"). */
export const FRONTS = ['native', 'node'] as const;

/** A podgate JSON error body's code. */
export function errorCode(r: RawResponse | undefined): string | undefined {
  if (r === undefined) return undefined;
  return (JSON.parse(r.body) as { error?: string }).error;
}
