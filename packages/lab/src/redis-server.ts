import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError } from './lab-error.js';

/**
 * A real redis-server (Debian's package) of a test's own: on a loopback address and port, in a
 * temporary directory, stopped by its PID. Never the system instance. `kill9()` and `start()`
 * again on the same port and directory are a crash and a restart; with `appendonly` the data
 * written before the crash is back (appendfsync always: every acknowledged write is on disk).
 */
export interface LabRedisOptions {
  host?: string;
  /** 0 (default): a free port, kept across restarts. */
  port?: number;
  /** AOF with fsync on every write; without it nothing is saved (`--save ""`). */
  appendonly?: boolean;
}

const READY_TIMEOUT_MS = 10_000;
const SERVER_PATHS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

/** The redis-server binary, or null when the package is not installed. */
export function redisServerPath(): string | null {
  return SERVER_PATHS.find((p) => existsSync(p)) ?? null;
}

export class LabRedis {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly host: string,
    readonly port: number,
    readonly dir: string,
    private readonly appendonly: boolean,
  ) {}

  static async start(options: LabRedisOptions = {}): Promise<LabRedis> {
    const host = options.host ?? '127.0.0.1';
    if (!host.startsWith('127.')) throw new LabError('LAB_INVALID_OPTION', `redis host ${host} is not a loopback address`);
    const port = options.port !== undefined && options.port !== 0 ? options.port : await freePort(host);
    const dir = await mkdtemp(join(tmpdir(), 'podgate-redis-'));
    const redis = new LabRedis(host, port, dir, options.appendonly ?? false);
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts the server (again) on the same address, port and directory. */
  async restart(): Promise<void> {
    if (this.child !== null) return;
    const binary = redisServerPath();
    if (binary === null) throw new LabError('LAB_NO_REDIS', 'redis-server is not installed (apt-get install -y redis-server)');
    const args = [
      '--bind',
      this.host,
      '--port',
      String(this.port),
      '--dir',
      this.dir,
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      '--loglevel',
      'warning',
    ];
    if (this.appendonly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await answersPing(this.host, this.port))) {
      if (this.child !== child || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new LabError('LAB_REDIS_FAILED', `redis-server on ${this.host}:${this.port} did not start: ${output.trim().slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A crash: SIGKILL, no shutdown save. Resolves once the process is gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops the server by its PID and removes its directory. */
  async close(): Promise<void> {
    await this.kill9();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a Redis answers PING on host:port (RESP inline command). */
function answersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
