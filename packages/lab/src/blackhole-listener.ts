import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { LabError } from './lab-error.js';

/**
 * A TCP listener that never accepts, so new connects to host:port time out instead of
 * being refused — what a client sees when a pod's IP still routes but nothing answers
 * (nginx's `113: No route to host` / connect timeout case in the seed write-up).
 *
 * Node cannot listen without accepting, so a python3 child holds the listening socket with
 * backlog 0 and never calls accept(); one filler connection from here fills the accept queue.
 * With net.ipv4.tcp_abort_on_overflow=0 (the Linux default) the kernel then drops further
 * SYNs, which the client sees as a true connect timeout.
 *
 * Given the pod's own listening fd, the child inherits that very socket (as fd 3) and shrinks
 * its backlog before node lets go of it, so there is no instant at which connects are refused.
 * Without one, the child binds a fresh socket after node closed its own (tens of ms refused).
 */

// Binding may race the node listener's fd being freed, so the child retries briefly.
const PYTHON_SCRIPT = `
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
for attempt in range(100):
    try:
        s.bind((host, port))
        break
    except OSError as e:
        if attempt == 99:
            print('error ' + str(e), flush=True)
            sys.exit(1)
        time.sleep(0.02)
s.listen(0)
print('ready', flush=True)
sys.stdin.read()
`;

// fd 3 is the pod's listening socket, shared with node: listen() again only lowers its backlog.
const INHERIT_SCRIPT = `
import socket, sys
s = socket.socket(fileno=3)
s.listen(0)
print('ready', flush=True)
sys.stdin.read()
`;

const READY_TIMEOUT_MS = 10_000;
/**
 * python3 as PATH finds it, except a version manager's shim (pyenv's `shims/`), which adds ~250 ms
 * to each start where Debian's own starts in ~30 ms: longer than a test's pod takes to answer, so
 * the pod would not go silent in time. Debian's is used instead when it is there.
 */
function pythonCommand(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, 'python3');
    if (!existsSync(candidate)) continue;
    return dir.endsWith('/shims') && existsSync('/usr/bin/python3') ? '/usr/bin/python3' : candidate;
  }
  return 'python3';
}
// A loopback connect to a queue with room completes in well under a millisecond.
const FILLER_TIMEOUT_MS = 1000;

export class BlackholeListener {
  #child: ChildProcess;
  #filler: net.Socket | null;
  #closed = false;

  private constructor(child: ChildProcess, filler: net.Socket | null) {
    this.#child = child;
    this.#filler = filler;
  }

  /**
   * With `inherit`, the child takes over the pod's listening socket; `inherit.release()` must
   * close node's own listener (once the child holds the socket), after which the queue is filled.
   */
  static async start(host: string, port: number, inherit?: { fd: number; release: () => void }): Promise<BlackholeListener> {
    const child = await spawnReady(host, port, inherit?.fd);
    inherit?.release();
    try {
      const filler = await connectFiller(host, port);
      return new BlackholeListener(child, filler);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#filler?.destroy();
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Closing stdin is the polite way out; SIGKILL is the backstop so close() is bounded.
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
    await exited;
    clearTimeout(timer);
  }
}

function spawnReady(host: string, port: number, fd: number | undefined): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child =
      fd === undefined
        ? spawn(pythonCommand(), ['-c', PYTHON_SCRIPT, host, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn(pythonCommand(), ['-c', INHERIT_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe', fd] });
    let out = '';
    let err = '';
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new LabError('LAB_BLACKHOLE_FAILED', `blackhole listener on ${host}:${port} not ready after ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        fail(new LabError('LAB_NO_PYTHON', 'blackhole termination needs python3 on PATH to hold a listener that never accepts; python3 was not found'));
      } else {
        fail(e);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve(child);
      } else if (out.includes('error')) {
        fail(new LabError('LAB_BLACKHOLE_FAILED', `blackhole listener could not bind ${host}:${port}: ${out.trim()}`));
      }
    });
    child.once('exit', (code) => {
      if (!out.includes('ready\n')) {
        fail(new LabError('LAB_BLACKHOLE_FAILED', `blackhole listener exited with ${code}: ${(out + err).trim()}`));
      }
    });
  });
}

/**
 * Fills the one-entry accept queue. Under load a client's connect can take the entry first: then
 * the filler's own SYN is dropped, which is the state wanted (the queue is full), and no filler
 * is kept.
 */
function connectFiller(host: string, port: number): Promise<net.Socket | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(FILLER_TIMEOUT_MS, () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('connect', () => {
      socket.setTimeout(0);
      // Never read: the child never accepts, so nothing will arrive anyway.
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
