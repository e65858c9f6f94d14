import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * The soak's badly behaved clients, on raw sockets so that they can misbehave: slow senders that
 * trickle a body, and clients that go away in the middle of their body (FIN or RST). What happens
 * to them is counted apart from the well-behaved clients' errors: a slow client may legitimately
 * be cut by podgate's client.requestTimeout, and a client that leaves gets no answer by design.
 */

export interface SlowClientPlan {
  /** Closed-loop slow clients, each sending its next request when the last one ends. */
  clients: number;
  bodyBytes: number;
  chunkBytes: number;
  chunkIntervalMs: number;
  /** One request is given up (and counted as `client_timeout`) after this. */
  timeoutMs: number;
}

export interface DisconnectPlan {
  /** Open loop: this many a second, each on a fresh connection. */
  perSecond: number;
  /** Every fourth declares 1 MiB (past the 64 KiB ones, it makes podgate buffer more before the cut). */
  bodyBytes: number;
  largeBodyBytes: number;
}

export interface SlowClientReport {
  started: number;
  ok: number;
  /** Answers by status; network failures by code. */
  byStatus: Record<string, number>;
  byError: Record<string, number>;
  /** Seconds a request took (body trickle included): median and max. */
  p50Ms: number;
  maxMs: number;
}

export interface DisconnectReport {
  started: number;
  /** Went away mid-body as planned, with nothing answered before. */
  disconnected: number;
  /** By FIN (end) or RST (resetAndDestroy). */
  byFin: number;
  byRst: number;
  /** podgate answered (or closed) before the client left, by status or `closed_early`: expected causes are listed in the report. */
  answeredEarly: Record<string, number>;
  /** The connection failed before the cut (refused, reset). */
  byError: Record<string, number>;
}

// A few bytes of the answer are enough: the status line. The pods answer with a small JSON body.
const HEADER_END = '\r\n\r\n';

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e.code === 'string' ? e.code : typeof e.message === 'string' ? e.message.slice(0, 40) : 'unknown';
}

function head(host: string, port: number, path: string, bytes: number, close: boolean): string {
  return `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${bytes}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
}

/** The status of a complete response head in `text`, or 0 while it is incomplete. */
function statusOf(text: string): number {
  if (!text.includes(HEADER_END)) return 0;
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return m === null ? -1 : Number(m[1]);
}

/**
 * One POST whose body goes out `chunkBytes` at a time every `chunkIntervalMs`, then waits for the
 * answer (Connection: close, so the answer ends with the connection).
 */
function slowRequest(host: string, port: number, path: string, plan: SlowClientPlan): Promise<{ status: number; error?: string; ms: number }> {
  const start = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (status: number, error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      socket.destroy();
      resolve(error === undefined ? { status, ms: performance.now() - start } : { status, error, ms: performance.now() - start });
    };
    const deadline = setTimeout(() => finish(0, 'client_timeout'), plan.timeoutMs);
    const chunk = Buffer.alloc(plan.chunkBytes, 0x62);
    const next = (): void => {
      if (done) return;
      const n = Math.min(plan.chunkBytes, plan.bodyBytes - sent);
      if (n <= 0) return;
      socket.write(n === chunk.length ? chunk : chunk.subarray(0, n));
      sent += n;
      if (sent < plan.bodyBytes) timer = setTimeout(next, plan.chunkIntervalMs);
    };
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.write(head(host, port, path, plan.bodyBytes, true));
      next();
    });
    socket.on('data', (data: Buffer) => {
      // Only the head matters; the body is a few hundred bytes of JSON.
      if (received.length < 8192) received += data.toString('latin1');
    });
    socket.once('end', () => {
      const status = statusOf(received);
      if (status > 0) finish(status);
      else finish(0, sent < plan.bodyBytes ? 'closed_mid_body' : 'closed_without_answer');
    });
    socket.once('error', (err) => {
      const status = statusOf(received);
      // A reset after a complete answer head still carried the answer.
      if (status > 0) finish(status);
      else finish(0, errorCode(err));
    });
  });
}

/**
 * Slow clients in a closed loop until `stop` or `deadline` (performance.now()), at most
 * `maxRequests` in all: bounded in time and count.
 */
export async function runSlowClients(
  host: string,
  port: number,
  path: string,
  plan: SlowClientPlan,
  deadline: number,
  stop: AbortSignal,
  maxRequests: number,
): Promise<SlowClientReport> {
  const report: SlowClientReport = { started: 0, ok: 0, byStatus: {}, byError: {}, p50Ms: 0, maxMs: 0 };
  const times: number[] = [];
  const client = async (i: number): Promise<void> => {
    // Staggered, so the trickles do not march in step.
    await sleep((i * plan.chunkIntervalMs) / Math.max(1, plan.clients));
    while (!stop.aborted && performance.now() < deadline && report.started < maxRequests) {
      report.started++;
      const r = await slowRequest(host, port, path, plan);
      times.push(r.ms);
      if (r.status > 0) bump(report.byStatus, String(r.status));
      if (r.status >= 200 && r.status < 300) report.ok++;
      if (r.error !== undefined) bump(report.byError, r.error);
    }
  };
  await Promise.all(Array.from({ length: plan.clients }, (_, i) => client(i)));
  times.sort((a, b) => a - b);
  report.p50Ms = Math.round(times[Math.floor(times.length / 2)] ?? 0);
  report.maxMs = Math.round(times[times.length - 1] ?? 0);
  return report;
}

/** One client that sends its head and part of its body, then leaves. */
function disconnectMidBody(
  host: string,
  port: number,
  path: string,
  declared: number,
  sendBytes: number,
  rst: boolean,
  waitMs: number,
): Promise<{ outcome: 'disconnected' } | { outcome: 'early'; what: string } | { outcome: 'error'; code: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = '';
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: Awaited<ReturnType<typeof disconnectMidBody>>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(safety);
      resolve(r);
    };
    // Bounded even if the connect never completes.
    const safety = setTimeout(() => {
      socket.destroy();
      finish({ outcome: 'error', code: 'connect_timeout' });
    }, 10_000);
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.write(head(host, port, path, declared, false));
      socket.write(Buffer.alloc(sendBytes, 0x63));
      timer = setTimeout(() => {
        if (received !== '') {
          const status = statusOf(received);
          socket.destroy();
          finish({ outcome: 'early', what: status > 0 ? String(status) : 'partial_answer' });
          return;
        }
        if (rst) socket.resetAndDestroy();
        else socket.destroy();
        finish({ outcome: 'disconnected' });
      }, waitMs);
    });
    socket.on('data', (data: Buffer) => {
      if (received.length < 8192) received += data.toString('latin1');
    });
    socket.once('end', () => {
      if (done) return;
      const status = statusOf(received);
      socket.destroy();
      finish({ outcome: 'early', what: status > 0 ? String(status) : 'closed_early' });
    });
    socket.once('error', (err) => {
      socket.destroy();
      finish({ outcome: 'error', code: errorCode(err) });
    });
  });
}

/** Clients that leave mid-body, `plan.perSecond` a second until `stop` or `deadline`, at most `maxRequests`. */
export async function runDisconnectingClients(
  host: string,
  port: number,
  path: string,
  plan: DisconnectPlan,
  deadline: number,
  stop: AbortSignal,
  maxRequests: number,
): Promise<DisconnectReport> {
  const report: DisconnectReport = { started: 0, disconnected: 0, byFin: 0, byRst: 0, answeredEarly: {}, byError: {} };
  const pending = new Set<Promise<void>>();
  const intervalMs = 1000 / plan.perSecond;
  const t0 = performance.now();
  while (!stop.aborted && performance.now() < deadline && report.started < maxRequests) {
    const i = report.started++;
    const declared = i % 4 === 3 ? plan.largeBodyBytes : plan.bodyBytes;
    // Anywhere from a few bytes to all but the last byte of the body.
    const sendBytes = Math.max(1, Math.floor((((i * 7919) % 997) / 997) * (declared - 1)));
    const rst = i % 2 === 1;
    const p = disconnectMidBody(host, port, path, declared, sendBytes, rst, 20 + ((i * 31) % 180)).then((r) => {
      if (r.outcome === 'disconnected') {
        report.disconnected++;
        if (rst) report.byRst++;
        else report.byFin++;
      } else if (r.outcome === 'early') bump(report.answeredEarly, r.what);
      else bump(report.byError, r.code);
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
    const wait = t0 + report.started * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(pending);
  return report;
}
