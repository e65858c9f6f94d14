import type { PodgateConfig } from '@podgate/protocol';
import type { ControlPlane } from '@podgate/control';
import type { WorkerControl, WorkerInspection, WorkerReport } from '@podgate/proxy';
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { DATA_PLANE_NODE_FLAGS } from './node-flags.js';

// A worker that dies is replaced, but not in a tight loop.
const RESPAWN_DELAY_MS = 500;

/** A worker could not listen on the proxy port: its error, for the primary to report once. */
export interface ListenFailed {
  type: 'listen_failed';
  message: string;
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
}

/**
 * Data-plane worker processes sharing the proxy port through node:cluster (Node 20 has no
 * reusePort). Each is attached to the control plane like the in-process data plane: same messages.
 */
export class WorkerPool {
  private readonly workers = new Map<number, Worker>();
  private stopping = false;
  private nextInspect = 0;
  private readonly inspections = new Map<number, (i: WorkerInspection) => void>();
  port = 0;

  constructor(
    private readonly control: ControlPlane,
    private config: PodgateConfig,
    private readonly logger: Logger,
  ) {}

  async start(count: number): Promise<void> {
    // Workers always run the built file; when this module runs from source (tests), that is in dist/.
    const here = fileURLToPath(import.meta.url);
    const exec = here.endsWith('.ts') ? here.replace(/src[\\/]worker-pool\.ts$/, 'dist/worker-main.js') : here.replace(/worker-pool\.js$/, 'worker-main.js');
    cluster.setupPrimary({ exec, execArgv: [...DATA_PLANE_NODE_FLAGS], args: [] });
    await Promise.all(Array.from({ length: count }, (_, i) => this.fork(i + 1)));
  }

  /** Config changes reach workers as `services` messages; this keeps respawns current. */
  setConfig(config: PodgateConfig): void {
    this.config = config;
  }

  /** Each worker's replica of the peer tables (tests, debugging). */
  inspect(): Promise<WorkerInspection[]> {
    return Promise.all(
      [...this.workers.values()].map(
        (w) =>
          new Promise<WorkerInspection>((resolve) => {
            const id = ++this.nextInspect;
            this.inspections.set(id, resolve);
            w.send({ type: 'inspect', id } satisfies WorkerControl);
          }),
      ),
    );
  }

  /** SIGTERM: every worker stops accepting and finishes in-flight requests (up to graceMs). */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.workers.values()].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const timer = setTimeout(() => w.process.kill('SIGKILL'), graceMs + 2000);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.send({ type: 'shutdown', graceMs } satisfies WorkerControl);
          }),
      ),
    );
  }

  private fork(id: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = cluster.fork({ PODGATE_WORKER: String(id) });
      this.workers.set(id, worker);
      let listening = false;
      let listenError: Error | null = null;
      worker.on('message', (m: WorkerReport | ListenFailed) => {
        if (m.type === 'listen_failed') {
          const { type: _type, message, ...fields } = m;
          listenError = Object.assign(new Error(message), fields);
        } else if (m.type === 'hello') {
          worker.send({ type: 'init', worker: id, config: this.config } satisfies WorkerControl);
        } else if (m.type === 'listening') {
          listening = true;
          this.port = m.port;
          this.control.attachWorker(id, (message) => worker.send(message));
          resolve();
        } else if (m.type === 'inspection') {
          this.inspections.get(m.id)?.(m.inspection);
          this.inspections.delete(m.id);
        } else {
          this.control.fromWorker(id, m);
        }
      });
      worker.on('exit', (code, signal) => {
        this.control.detachWorker(id);
        if (this.workers.get(id) === worker) this.workers.delete(id);
        if (!listening) {
          reject(listenError ?? new Error(`worker ${id} exited before listening (code ${code}, signal ${signal})`));
          return;
        }
        if (this.stopping) return;
        this.logger.error({ worker: id, code, signal }, `worker ${id} died; starting a new one`);
        setTimeout(
          () => void this.fork(id).catch((err: Error) => this.logger.error({ worker: id, err: err.message }, 'worker respawn failed')),
          RESPAWN_DELAY_MS,
        ).unref();
      });
    });
  }
}
