import { DataPlaneAgent, ProxyServer, type ToWorker, type WorkerControl, type WorkerReport } from '@podgate/proxy';
import { pino } from 'pino';
import type { ListenFailed } from './worker-pool.js';

/*
 * A data-plane worker process: a ProxyServer on the shared port, driven by the primary's messages.
 * Messages that arrive before `init` wait for it.
 */
const send = (m: WorkerReport): void => {
  if (process.connected) process.send?.(m);
};
let agent: DataPlaneAgent | null = null;
let proxy: ProxyServer | null = null;
const early: ToWorker[] = [];

process.on('message', (m: WorkerControl | ToWorker) => {
  if (m.type === 'init') void init(m.worker, m.config);
  else if (m.type === 'shutdown') void shutdown(m.graceMs);
  else if (m.type === 'inspect') {
    if (proxy !== null) send({ type: 'inspection', id: m.id, inspection: proxy.inspect() });
  } else if (agent === null) early.push(m);
  else void agent.receive(m);
});

async function init(worker: number, config: Extract<WorkerControl, { type: 'init' }>['config']): Promise<void> {
  const logger = pino({ level: config.log.level }).child({ worker });
  const server = new ProxyServer({
    config: { ...config, services: [] },
    logger,
    onPeerEvent: (e) => agent?.onLocalEvent(e),
    onNotice: (n) => agent?.onNotice(n),
  });
  proxy = server;
  agent = new DataPlaneAgent(server, worker, send);
  for (const m of early.splice(0)) await agent.receive(m);
  let port: number;
  try {
    port = (await server.listen()).port;
  } catch (err) {
    // The primary names the address and the key in one line; a stack trace here would say it again.
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    const failed: ListenFailed = { type: 'listen_failed', message: e.message, code: e.code, syscall: e.syscall, address: e.address, port: e.port };
    if (process.connected && process.send !== undefined) process.send(failed, undefined, undefined, () => process.exit(1));
    else process.exit(1);
    return;
  }
  send({ type: 'listening', port });
}

async function shutdown(graceMs: number): Promise<void> {
  await proxy?.close(graceMs);
  agent?.close();
  process.disconnect();
  process.exit(0);
}

// The primary going away (killed) must not leave a worker serving on its own.
process.on('disconnect', () => process.exit(0));

// An ES module is loaded asynchronously: IPC messages sent before this point would have found no
// listener and been dropped, so the primary sends `init` only when asked.
send({ type: 'hello' });
