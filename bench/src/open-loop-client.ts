import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

/*
 * Constant-rate (open-loop) GETs, for latency at a given load rather than at saturation (wrk2's
 * job; wrk2 is not in Debian). Raw keep-alive sockets and a minimal response parser, so that the
 * client costs little CPU next to the server under test on a small machine. Latency is counted
 * from when a request was due, not when it went out, so a request that waits for a free
 * connection is charged its wait (no coordinated omission).
 * Run: node open-loop-client.js --url http://127.0.0.1:18701/ --rate 5000 --duration-ms 8000
 * Prints one line: OPEN_LOOP_RESULT {json}.
 */
const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    rate: { type: 'string' },
    'duration-ms': { type: 'string' },
    'warmup-ms': { type: 'string' },
    connections: { type: 'string' },
  },
});
const url = new URL(values.url ?? 'http://127.0.0.1:18701/');
const rate = Number(values.rate ?? '1000');
const durationMs = Number(values['duration-ms'] ?? '5000');
const warmupMs = Number(values['warmup-ms'] ?? '1000');
const connections = Number(values.connections ?? '64');
if (!url.hostname.startsWith('127.')) throw new Error(`open-loop client: loopback only, not ${url.hostname}`);
// A request unanswered this long is an error; and the run waits at most this long for stragglers.
const REQUEST_TIMEOUT_MS = 5000;
const REQUEST = Buffer.from(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');

interface Conn {
  socket: Socket;
  /** When the request in flight was due; -1 when idle. */
  dueAt: number;
  buffer: Buffer;
}

const total = Math.ceil((rate * (warmupMs + durationMs)) / 1000);
const latencies = new Float64Array(total);
let recorded = 0;
let completed = 0;
let errors = 0;
let non2xx = 0;
let maxQueued = 0;
const queue: number[] = [];
const idle: Conn[] = [];
const conns: Conn[] = [];

function open(): Conn {
  const conn: Conn = { socket: connect({ host: url.hostname, port: Number(url.port || '80'), noDelay: true }), dueAt: -1, buffer: Buffer.alloc(0) };
  conn.socket.on('data', (chunk: Buffer) => onData(conn, chunk));
  conn.socket.on('error', () => undefined);
  conn.socket.on('close', () => {
    // A connection lost with a request in flight is an error; replace it while the run goes on.
    if (conn.dueAt >= 0) errors++;
    const j = idle.indexOf(conn);
    if (j >= 0) idle.splice(j, 1);
    const i = conns.indexOf(conn);
    if (finished || i < 0) return;
    const replacement = open();
    conns[i] = replacement;
    replacement.socket.once('connect', () => release(replacement));
  });
  return conn;
}

/** Length of a complete response at the start of buf, or 0 while it is incomplete. */
function responseLength(buf: Buffer): { length: number; status: number } {
  const headerEnd = buf.indexOf(HEADER_END);
  if (headerEnd < 0) return { length: 0, status: 0 };
  const head = buf.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (cl !== null) {
    const length = headerEnd + 4 + Number(cl[1]);
    return { length: buf.length >= length ? length : 0, status };
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const end = buf.indexOf(CHUNKED_END, headerEnd + 4);
    return { length: end < 0 ? 0 : end + CHUNKED_END.length, status };
  }
  return { length: headerEnd + 4, status };
}

function onData(conn: Conn, chunk: Buffer): void {
  conn.buffer = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk]);
  const { length, status } = responseLength(conn.buffer);
  if (length === 0) return;
  conn.buffer = conn.buffer.subarray(length);
  const now = performance.now();
  if (conn.dueAt >= t0 + warmupMs && recorded < total) latencies[recorded++] = now - conn.dueAt;
  completed++;
  if (status < 200 || status > 299) non2xx++;
  conn.dueAt = -1;
  release(conn);
}

function release(conn: Conn): void {
  const due = queue.shift();
  if (due === undefined) {
    idle.push(conn);
    return;
  }
  conn.dueAt = due;
  conn.socket.write(REQUEST);
}

let t0 = performance.now();
let scheduled = 0;
let finished = false;
for (let i = 0; i < connections; i++) conns.push(open());
await Promise.all(conns.map((c) => new Promise<void>((resolve) => c.socket.once('connect', () => resolve()))));
for (const c of conns) idle.push(c);
t0 = performance.now();
const intervalMs = 1000 / rate;

await new Promise<void>((resolve) => {
  const tick = (): void => {
    const now = performance.now();
    // Every send due by now, so timer jitter does not lower the rate.
    while (scheduled < total && t0 + scheduled * intervalMs <= now) {
      const due = t0 + scheduled * intervalMs;
      scheduled++;
      const conn = idle.pop();
      if (conn === undefined) queue.push(due);
      else {
        conn.dueAt = due;
        conn.socket.write(REQUEST);
      }
    }
    maxQueued = Math.max(maxQueued, queue.length);
    if (scheduled >= total) resolve();
    else setTimeout(tick, 1);
  };
  tick();
});
// Stragglers, bounded.
const drainEnd = performance.now() + REQUEST_TIMEOUT_MS;
while ((queue.length > 0 || conns.some((c) => c.dueAt >= 0)) && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 5));
finished = true;
const inFlight = queue.length + conns.filter((c) => c.dueAt >= 0).length;
const elapsedS = (performance.now() - t0) / 1000;
for (const c of conns) c.socket.destroy();

const sorted = latencies.subarray(0, recorded).sort();
const pct = (p: number): number => (recorded === 0 ? 0 : Math.round((sorted[Math.max(0, Math.ceil((p / 100) * recorded) - 1)] ?? 0) * 1000) / 1000);
let sum = 0;
for (const ms of sorted) sum += ms;
process.stdout.write(
  `OPEN_LOOP_RESULT ${JSON.stringify({
    rate,
    scheduled,
    completed,
    measured: recorded,
    achievedPerSecond: Math.round(completed / elapsedS),
    errors: errors + non2xx + inFlight,
    non2xx,
    unanswered: inFlight,
    maxQueued,
    latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: pct(100), mean: recorded === 0 ? 0 : Math.round((sum / recorded) * 1000) / 1000 },
  })}\n`,
);
process.exit(0);
