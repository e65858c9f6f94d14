import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the routes need from the pod that serves them. */
export interface PodRouteContext {
  readonly name: string;
  readonly delayMs: number;
  /** Answers with a JSON body, unless the pod has stopped answering (then it drops it). */
  reply(res: ServerResponse, status: number, body: unknown, options?: { close?: boolean }): void;
  /** False once the pod stops answering; routes that act on the raw socket check it. */
  answering(): boolean;
  /** Counts a reply that did not go through `reply()` (the raw invalid head). */
  countServed(): void;
  /** A timer the pod clears on close, so a pending /slow cannot keep the process alive. */
  later(ms: number, fn: () => void): void;
}

// A recognition request carries one image; 1 MiB keeps a runaway client from filling memory.
export const MAX_RECOGNIZE_BYTES = 1024 * 1024;
// /slow is for tests; ten minutes is longer than any test and still bounded.
const MAX_SLOW_MS = 10 * 60_000;

// A header name may not contain a space (RFC 9110 §5.1: field-name is a token), so every
// HTTP parser must reject this head; nginx calls it `invalid_header`.
const INVALID_HEAD = 'HTTP/1.1 200 OK\r\nBad Header: yes\r\nContent-Length: 2\r\n\r\nok';

export function routePodRequest(ctx: PodRouteContext, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  if (path === '/recognize') return recognize(ctx, req, res);
  if (path === '/echo') {
    return countBody(req, Infinity, (bytes) =>
      ctx.reply(res, 200, { pod: ctx.name, method: req.method, url: req.url, headers: req.headers, bodyBytes: bytes }),
    );
  }
  if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
    return countBody(req, Infinity, () => ctx.reply(res, 200, { pod: ctx.name, ok: true }));
  }
  const status = matchNumber(path, '/status/');
  if (status !== undefined) {
    if (status < 200 || status > 599) return countBody(req, Infinity, () => badParam(ctx, res, 'status'));
    return countBody(req, Infinity, () => ctx.reply(res, status, { pod: ctx.name, status }));
  }
  const slowMs = matchNumber(path, '/slow/');
  if (slowMs !== undefined) {
    if (slowMs > MAX_SLOW_MS) return countBody(req, Infinity, () => badParam(ctx, res, 'ms'));
    return countBody(req, Infinity, () => ctx.later(slowMs, () => ctx.reply(res, 200, { pod: ctx.name, slowMs })));
  }
  if (path === '/close') {
    // Read the whole request first, so the client sees "closed before the response head",
    // not a failed write of its body.
    return countBody(req, Infinity, () => {
      if (ctx.answering()) req.socket.destroy();
    });
  }
  if (path === '/reset') {
    return countBody(req, Infinity, () => {
      if (ctx.answering()) req.socket.resetAndDestroy();
    });
  }
  if (path === '/invalid-header') {
    return countBody(req, Infinity, () => {
      if (!ctx.answering()) return;
      ctx.countServed();
      req.socket.end(INVALID_HEAD);
    });
  }
  countBody(req, Infinity, () => ctx.reply(res, 404, { pod: ctx.name, error: 'not_found', path }));
}

function recognize(ctx: PodRouteContext, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST') {
    return countBody(req, Infinity, () => ctx.reply(res, 405, { pod: ctx.name, error: 'method_not_allowed' }));
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_RECOGNIZE_BYTES) return tooLarge(ctx, req, res);
  countBody(
    req,
    MAX_RECOGNIZE_BYTES,
    (bytes) => {
      const answer = (): void => ctx.reply(res, 200, { pod: ctx.name, bytes });
      if (ctx.delayMs > 0) ctx.later(ctx.delayMs, answer);
      else answer();
    },
    () => tooLarge(ctx, req, res),
  );
}

function tooLarge(ctx: PodRouteContext, req: IncomingMessage, res: ServerResponse): void {
  // The rest of the body is never read, so the connection cannot be reused.
  ctx.reply(res, 413, { pod: ctx.name, error: 'payload_too_large', limit: MAX_RECOGNIZE_BYTES }, { close: true });
  req.resume();
}

function badParam(ctx: PodRouteContext, res: ServerResponse, param: string): void {
  ctx.reply(res, 400, { pod: ctx.name, error: 'bad_parameter', param });
}

function matchNumber(path: string, prefix: string): number | undefined {
  if (!path.startsWith(prefix)) return undefined;
  const text = path.slice(prefix.length);
  if (!/^\d{1,9}$/.test(text)) return undefined;
  return Number(text);
}

/** Reads and discards the body, counting its bytes; calls `over` instead of `done` past `limit`. */
function countBody(req: IncomingMessage, limit: number, done: (bytes: number) => void, over?: () => void): void {
  let bytes = 0;
  let exceeded = false;
  req.on('data', (chunk: Buffer) => {
    if (exceeded) return;
    bytes += chunk.length;
    if (bytes > limit) {
      exceeded = true;
      over?.();
    }
  });
  req.once('end', () => {
    if (!exceeded) done(bytes);
  });
  // A client that goes away mid-body leaves nothing to answer.
  req.once('error', () => {});
}
