import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ChildSpec {
  /** Shown in messages and used for the log file name. */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr go here (appended), never to the terminal. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A Node child of ours that should exit when the bench goes away (it watches 'disconnect'). */
  ipc?: boolean;
  /** Seconds before timeout(1) stops it on its own; default CHILD_LIFETIME_S (the soak runs longer). */
  lifetimeS?: number;
}

export interface Child {
  readonly name: string;
  /** The process group: `timeout` leads it, the command and its own children (nginx and podgate workers) are in it. */
  readonly pgid: number;
  readonly logFile: string;
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
}

// Every child runs under coreutils' timeout: if the bench itself is killed with SIGKILL and can
// clean nothing up, its servers still go away on their own after this long (a full run takes ≤ 10 min).
const CHILD_LIFETIME_S = 900;
// A child that ignores SIGTERM this long gets SIGKILL.
const STOP_GRACE_MS = 5000;

/**
 * The bench's child processes. Each is spawned in a process group of its own, so one signal to
 * the group stops a server and whatever it forked; every group is stopped on exit or signal.
 */
export class Children {
  readonly #running = new Set<Child>();
  #handlersInstalled = false;

  spawn(spec: ChildSpec): Child {
    this.#installHandlers();
    const fd = openSync(spec.logFile, 'a');
    const stdio: Array<'ignore' | 'ipc' | number> = ['ignore', fd, fd];
    if (spec.ipc === true) stdio.push('ipc');
    let proc: ChildProcess;
    try {
      proc = spawn('timeout', ['--kill-after=5s', `${Math.ceil(spec.lifetimeS ?? CHILD_LIFETIME_S)}s`, spec.command, ...spec.args], {
        detached: true,
        stdio,
        env: spec.env ?? process.env,
        cwd: spec.cwd,
      });
    } finally {
      closeSync(fd);
    }
    const pid = proc.pid;
    if (pid === undefined) throw new Error(`cannot start ${spec.name} (${spec.command})`);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const child: Child = { name: spec.name, pgid: pid, logFile: spec.logFile, process: proc, exited };
    this.#running.add(child);
    void exited.then(() => this.#running.delete(child));
    // Not referenced: an idle child must not keep the bench alive.
    proc.unref();
    if (spec.ipc === true) proc.channel?.unref();
    return child;
  }

  /** SIGTERM to the group (podgate drains, nginx quits), SIGKILL after a grace. */
  async stop(child: Child, graceMs = STOP_GRACE_MS): Promise<void> {
    if (!this.#running.has(child)) return;
    signalGroup(child.pgid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child.pgid, 'SIGKILL'), graceMs);
    await child.exited;
    clearTimeout(timer);
    // timeout(1) has gone; anything it left in the group goes too.
    signalGroup(child.pgid, 'SIGKILL');
    this.#running.delete(child);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#running].map((c) => this.stop(c)));
  }

  /** Synchronous last resort, from the 'exit' handler. */
  killAllNow(): void {
    for (const child of this.#running) signalGroup(child.pgid, 'SIGKILL');
    this.#running.clear();
  }

  #installHandlers(): void {
    if (this.#handlersInstalled) return;
    this.#handlersInstalled = true;
    process.once('exit', () => this.killAllNow());
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        process.stderr.write(`\nbench: ${signal}, stopping every child process\n`);
        void this.stopAll().finally(() => process.exit(130));
      });
    }
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** The last lines of a child's log, for an error message. */
export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** `command args` run through a wrapper such as `prlimit --nofile=N:N --`, when there is one. */
export function wrapped(wrap: readonly string[], command: string, args: string[]): { command: string; args: string[] } {
  const [first, ...rest] = wrap;
  return first === undefined ? { command, args } : { command: first, args: [...rest, command, ...args] };
}
