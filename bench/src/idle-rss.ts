import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wrapped, type Child, type Children } from './child-processes.js';
import { IDLE_CLIENT_HOSTS } from './layout.js';
import { distFile } from './paths.js';
import { groupRssBytes } from './proc-stats.js';
import { sleep } from './wait.js';

export interface IdleRss {
  requested: number;
  opened: number;
  /** Still open when podgate's RSS was read. */
  stillOpen: number;
  openErrors: Record<string, number>;
  openMs: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  perConnectionBytes: number;
  fdLimit: { soft: number; hard: number; note: string };
}

// Headroom over the idle connections: upstream pools (64 a pod), the admin API, files.
const FD_HEADROOM = 1024;

/** RLIMIT_NOFILE of this process, from /proc (Node raises the soft limit to the hard one at start). */
export function openFilesLimit(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/);
  const n = (v: string | undefined): number => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: n(soft), hard: n(hard) };
}

/**
 * How many idle connections can be held, and how: Node children raise their soft limit to the
 * hard one by themselves; past the hard limit only root can go (prlimit), else fewer connections.
 */
export function planIdleConnections(wanted: number): { count: number; wrap: string[]; soft: number; hard: number; note: string } {
  const { soft, hard } = openFilesLimit();
  const need = wanted + FD_HEADROOM;
  if (hard >= need) return { count: wanted, wrap: [], soft, hard, note: `hard limit ${hard} ≥ ${need}: enough` };
  if (process.getuid?.() === 0)
    return { count: wanted, wrap: ['prlimit', `--nofile=${need}:${need}`, '--'], soft, hard, note: `hard limit ${hard} < ${need}: raised with prlimit (root)` };
  const count = Math.max(0, hard - FD_HEADROOM);
  return {
    count,
    wrap: [],
    soft,
    hard,
    note: `hard limit ${hard} < ${need} and not root: cannot raise it (ulimit -Hn), measured ${count} connections instead`,
  };
}

function waitForMessage<T extends { type: string }>(child: Child, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.name}: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: T): void => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.process.off('message', onMessage);
      resolve(m);
    };
    child.process.on('message', onMessage);
  });
}

interface IdleReport {
  type: string;
  open: number;
  closedByPeer: number;
  errors: Record<string, number>;
  openMs: number;
}

/**
 * RSS of a podgate (its whole process group) before and with `count` idle keep-alive client
 * connections, opened from a separate process in batches of 500.
 */
export async function measureIdleRss(opts: {
  children: Children;
  dir: string;
  podgate: Child;
  host: string;
  port: number;
  count: number;
  wrap: string[];
  fdNote: string;
  log: (line: string) => void;
}): Promise<IdleRss> {
  const limits = openFilesLimit();
  await sleep(1000);
  const before = groupRssBytes(opts.podgate.pgid).bytes;
  const { command, args } = wrapped(opts.wrap, process.execPath, [
    distFile('idle-client.js'),
    ...['--host', opts.host, '--port', String(opts.port), '--count', String(opts.count), '--from', IDLE_CLIENT_HOSTS.join(',')],
  ]);
  const client = opts.children.spawn({ name: 'idle client', command, args, logFile: join(opts.dir, 'idle-client.log'), ipc: true });
  try {
    const opened = await waitForMessage<IdleReport>(client, 'opened', 120_000);
    opts.log(
      `  idle: ${opened.open} of ${opts.count} connections open in ${opened.openMs} ms${Object.keys(opened.errors).length > 0 ? `, errors ${JSON.stringify(opened.errors)}` : ''}`,
    );
    // Let podgate settle (GC, freed buffers) before reading its RSS.
    await sleep(2000);
    const after = groupRssBytes(opts.podgate.pgid).bytes;
    client.process.send({ type: 'report' });
    const report = await waitForMessage<IdleReport>(client, 'report', 10_000);
    return {
      requested: opts.count,
      opened: opened.open,
      stillOpen: report.open,
      openErrors: opened.errors,
      openMs: opened.openMs,
      rssBeforeBytes: before,
      rssAfterBytes: after,
      perConnectionBytes: opened.open > 0 ? (after - before) / opened.open : 0,
      fdLimit: { soft: limits.soft, hard: limits.hard, note: opts.fdNote },
    };
  } finally {
    await opts.children.stop(client);
  }
}
