import net from 'node:net';

export interface ProbeResult {
  ok: boolean;
  /** Why it failed, in nginx's words, or what passed. */
  detail: string;
  /** A failed probe that timed out (nothing answered), as opposed to a refusal. */
  timedOut: boolean;
}

/**
 * A connection to host:port whose verdict comes once: from the caller (`settle`), from an error, or
 * from the timeout. The timeout's verdict waits for one more turn of the event loop: a connect that
 * completed while the loop was busy (its event not handled yet) must not be read as a timeout.
 */
function probeSocket(host: string, port: number, timeoutMs: number, timedOut: ProbeResult, done: (r: ProbeResult) => void): { socket: net.Socket; settle: (r: ProbeResult) => void } {
  const socket = net.connect({ host, port });
  let settled = false;
  const settle = (r: ProbeResult): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.destroy();
    done(r);
  };
  const timer = setTimeout(() => setImmediate(() => settle(timedOut)), timeoutMs);
  socket.once('error', (err: NodeJS.ErrnoException) => settle({ ok: false, timedOut: false, detail: `probe: connect() failed (${err.code ?? err.message})` }));
  return { socket, settle };
}

/** A TCP connect to host:port that must complete within `timeoutMs`. */
export function tcpProbe(host: string, port: number, timeoutMs: number, done: (r: ProbeResult) => void): void {
  const timedOut = { ok: false, timedOut: true, detail: `probe: connect() timed out after ${timeoutMs} ms (110: Connection timed out)` };
  const { socket, settle } = probeSocket(host, port, timeoutMs, timedOut, done);
  socket.once('connect', () => settle({ ok: true, timedOut: false, detail: 'probe: connected' }));
}

/** An HTTP GET of `path` whose 2xx/3xx answer within `timeoutMs` passes. */
export function httpProbe(host: string, port: number, path: string, timeoutMs: number, done: (r: ProbeResult) => void): void {
  const timedOut = { ok: false, timedOut: true, detail: `probe: GET ${path} timed out after ${timeoutMs} ms` };
  const { socket, settle } = probeSocket(host, port, timeoutMs, timedOut, done);
  let head = '';
  socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host.includes(':') ? `[${host}]` : host}:${port}\r\nUser-Agent: podgate-probe\r\nConnection: close\r\n\r\n`));
  socket.on('data', (chunk: Buffer) => {
    head += chunk.toString('latin1');
    const line = head.indexOf('\r\n');
    if (line === -1) return;
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.slice(0, line))?.[1] ?? 0);
    settle(status >= 200 && status < 400 ? { ok: true, timedOut: false, detail: `probe: GET ${path} answered ${status}` } : { ok: false, timedOut: false, detail: `probe: GET ${path} answered ${status || 'garbage'}` });
  });
  socket.once('end', () => settle({ ok: false, timedOut: false, detail: `probe: GET ${path} closed without an answer` }));
}
