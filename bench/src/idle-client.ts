import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

/*
 * Opens many keep-alive client connections to one address and leaves them idle: each sends one
 * GET and reads the answer (so the server holds a real HTTP connection, parser and all), then
 * stays open. In batches, each bounded in time. Tells the bench over IPC how many are open.
 * Run with an IPC channel: node idle-client.js --host 127.0.0.1 --port 18707 --count 10000 --from 127.0.11.1,...
 */
const { values } = parseArgs({
  options: { host: { type: 'string' }, port: { type: 'string' }, count: { type: 'string' }, batch: { type: 'string' }, from: { type: 'string' } },
});
const host = values.host ?? '127.0.0.1';
const port = Number(values.port ?? '18707');
const count = Number(values.count ?? '10000');
const batch = Number(values.batch ?? '500');
const sources = (values.from ?? '127.0.0.1').split(',');
const REQUEST = `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`;
// One connection gets this long to connect and be answered.
const OPEN_TIMEOUT_MS = 10_000;

const open = new Set<Socket>();
const errors: Record<string, number> = {};
let closedByPeer = 0;

function openOne(i: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, localAddress: sources[i % sources.length] });
    let answered = false;
    const timer = setTimeout(() => fail('open_timeout'), OPEN_TIMEOUT_MS);
    const fail = (code: string): void => {
      clearTimeout(timer);
      errors[code] = (errors[code] ?? 0) + 1;
      socket.destroy();
      resolve(false);
    };
    socket.once('connect', () => socket.write(REQUEST));
    socket.on('data', (chunk: Buffer) => {
      if (answered) return;
      // The pods' GET answer is one small chunk on loopback: a status line means it arrived.
      if (!chunk.toString('latin1', 0, 12).startsWith('HTTP/1.1 200')) return fail('status_not_200');
      answered = true;
      clearTimeout(timer);
      open.add(socket);
      resolve(true);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered) fail(err.code ?? 'error');
    });
    socket.on('close', () => {
      if (open.delete(socket)) closedByPeer++;
    });
  });
}

const t0 = performance.now();
for (let start = 0; start < count; start += batch) {
  const n = Math.min(batch, count - start);
  await Promise.all(Array.from({ length: n }, (_, k) => openOne(start + k)));
}
const openMs = Math.round(performance.now() - t0);
const report = (): { open: number; closedByPeer: number; errors: Record<string, number>; openMs: number } => ({
  open: open.size,
  closedByPeer,
  errors,
  openMs,
});
process.send?.({ type: 'opened', ...report() });
process.on('message', (m: { type: string }) => {
  if (m.type === 'report') process.send?.({ type: 'report', ...report() });
});
// Hold them until the bench says so, or goes away; never longer than 2 minutes.
setTimeout(() => process.exit(0), 120_000);
process.on('disconnect', () => process.exit(0));
