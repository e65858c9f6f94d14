import net from 'node:net';

export interface ProbeResult {
  ok: boolean;
  /** Why it failed, in nginx's words, or what passed. */
  detail: string;
  /** A failed probe that timed out (nothing answered), as opposed to a refusal or a close. */
  timedOut: boolean;
  /** A failed probe whose connection was refused (the pod closed its listener). */
  refused: boolean;
}

interface ProbeSocket {
  socket: net.Socket;
  settle: (r: ProbeResult) => void;
  /** The verdict if nothing settles it within `ms` from now (replaces the one before). */
  arm: (ms: number, timedOut: ProbeResult) => void;
}

/**
 * A connection to host:port whose verdict comes once: from the caller (`settle`), from an error, or
 * from the timeout. The timeout's verdict waits for one more turn of the event loop: a connect or
 * an answer that arrived while the loop was busy (its event not handled yet) must not be read as a
 * timeout.
 */
function probeSocket(host: string, port: number, done: (r: ProbeResult) => void): ProbeSocket {
  const socket = net.connect({ host, port });
  let settled = false;
  let timer: NodeJS.Timeout | null = null;
  const settle = (r: ProbeResult): void => {
    if (settled) return;
    settled = true;
    if (timer !== null) clearTimeout(timer);
    socket.destroy();
    done(r);
  };
  const arm = (ms: number, timedOut: ProbeResult): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => setImmediate(() => settle(timedOut)), ms);
  };
  socket.once('error', (err: NodeJS.ErrnoException) => {
    const refused = err.code === 'ECONNREFUSED';
    settle({ ok: false, timedOut: false, refused, detail: `probe: connect() failed (${err.code ?? err.message})` });
  });
  return { socket, settle, arm };
}

function connectTimedOut(ms: number): ProbeResult {
  return { ok: false, timedOut: true, refused: false, detail: `probe: connect() timed out after ${ms} ms (110: Connection timed out)` };
}

/** A TCP connect to host:port that must complete within `timeoutMs`. */
export function tcpProbe(host: string, port: number, timeoutMs: number, done: (r: ProbeResult) => void): void {
  const { socket, settle, arm } = probeSocket(host, port, done);
  arm(timeoutMs, connectTimedOut(timeoutMs));
  socket.once('connect', () => settle({ ok: true, timedOut: false, refused: false, detail: 'probe: connected' }));
}

/**
 * A connect within `connectTimeoutMs`, then `OPTIONS *` (RFC 9110 §9.3.7: a request about the
 * server itself, no resource) answered within `answerTimeoutMs`. Any status line passes, 404 or
 * 400 included: it proves the process reads and answers, which a connect does not (the kernel
 * accepts for a process that hangs). Nothing in time: hung, or gone after the connect.
 */
export function aliveProbe(host: string, port: number, connectTimeoutMs: number, answerTimeoutMs: number, done: (r: ProbeResult) => void): void {
  const probe = probeSocket(host, port, done);
  probe.arm(connectTimeoutMs, connectTimedOut(connectTimeoutMs));
  probe.socket.once('connect', () => {
    probe.arm(answerTimeoutMs, {
      ok: false,
      timedOut: true,
      refused: false,
      detail: `probe: connected, but OPTIONS * had no answer within ${answerTimeoutMs} ms (hung)`,
    });
    probe.socket.write(`OPTIONS * HTTP/1.1\r\nHost: ${hostHeader(host, port)}\r\nUser-Agent: podgate-probe\r\nConnection: close\r\n\r\n`);
  });
  readStatus(probe, 'OPTIONS *', () => true);
}

/** An HTTP GET of `path` whose 2xx/3xx answer within `timeoutMs` (connect included) passes. */
export function httpProbe(host: string, port: number, path: string, timeoutMs: number, done: (r: ProbeResult) => void): void {
  const probe = probeSocket(host, port, done);
  probe.arm(timeoutMs, { ok: false, timedOut: true, refused: false, detail: `probe: GET ${path} timed out after ${timeoutMs} ms` });
  probe.socket.once('connect', () =>
    probe.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostHeader(host, port)}\r\nUser-Agent: podgate-probe\r\nConnection: close\r\n\r\n`),
  );
  readStatus(probe, `GET ${path}`, (status) => status >= 200 && status < 400);
}

/** Settles the probe on the first status line (`passes` decides), or when the pod closes first. */
function readStatus(probe: ProbeSocket, what: string, passes: (status: number) => boolean): void {
  let head = '';
  probe.socket.on('data', (chunk: Buffer) => {
    head += chunk.toString('latin1');
    const line = head.indexOf('\r\n');
    if (line === -1 && head.length < 64) return;
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.slice(0, line === -1 ? head.length : line))?.[1] ?? 0);
    const ok = passes(status);
    probe.settle({ ok, timedOut: false, refused: false, detail: `probe: ${what} answered ${status || 'garbage'}` });
  });
  probe.socket.once('end', () => probe.settle({ ok: false, timedOut: false, refused: false, detail: `probe: ${what} closed without an answer` }));
}

function hostHeader(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
