import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/*
 * Preloaded into the soak's podgate process (`node --expose-gc --import <this file>
 * apps/podgate/dist/cli.js --config …`), so the figures are podgate's own and not the load
 * generator's: memory, open file descriptors, active handles and event-loop delay
 * (perf_hooks.monitorEventLoopDelay), answered over the IPC channel the bench opens. It does
 * nothing unless PODGATE_SOAK_PROBE=1 and an IPC channel exist; it changes nothing in podgate.
 */

/**
 * How late the event loop ran: monitorEventLoopDelay records the time between its timer's ticks,
 * which is the resolution (10 ms) on an idle loop, so the resolution is taken off each figure here
 * (floored at 0): 0 means on time. `rawP99Ms` is the histogram's own p99, resolution included.
 */
export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  rawP99Ms: number;
  resolutionMs: number;
  /** Samples in the histogram (one per loop turn at most, one per `resolution` ms when idle). */
  count: number;
}

/** podgate's TCP sockets, from its fds' socket inodes matched against /proc/self/net/tcp{,6}. */
export interface SocketCounts {
  /** Socket fds of any kind (TCP, UDP, Unix: the IPC channel). */
  socketFds: number;
  /** By role: `client` (accepted on the proxy port), `admin` (admin API and feed), `upstream` (to a pod's port), `listen`, `other`. */
  byRole: Record<string, number>;
  /** TCP state: ESTABLISHED, CLOSE_WAIT (the peer closed, podgate has not), … */
  byState: Record<string, number>;
  /** Upstream sockets by the pod address they go to, `ip:port`. */
  upstreamByPeer: Record<string, number>;
}

export interface ProbeSample {
  /** Date.now() in podgate when memory was read. */
  at: number;
  pid: number;
  /** True when a full GC ran just before memory was read (loop delay was read before it). */
  gc: boolean;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** Entries of /proc/self/fd, minus the one readdir itself opened. */
  fds: number;
  sockets: SocketCounts;
  /** process.getActiveResourcesInfo() by type: TCPSocketWrap, Timeout, … */
  resources: Record<string, number>;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Since the last sample (then reset). */
  loopWindow: LoopDelay;
  /** Since the last `resetWhole` (the measured period). */
  loopWhole: LoopDelay;
}

export interface ProbeRequest {
  type: 'soak-sample';
  id: number;
  /** Run a full GC (after reading the loop delay) so heap figures are the live heap, not garbage. */
  gc: boolean;
  /** Start the whole-period histogram again after this sample. */
  resetWhole: boolean;
}

// monitorEventLoopDelay's default; the report states it. Import only types from this file
// elsewhere: importing a value would run it in the bench process.
const RESOLUTION_MS = 10;

function delay(h: IntervalHistogram): LoopDelay {
  const raw = (ns: number): number => Math.round((ns / 1e6) * 100) / 100;
  const late = (ns: number): number => (h.count === 0 ? 0 : Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100));
  return {
    p50Ms: late(h.percentile(50)),
    p99Ms: late(h.percentile(99)),
    maxMs: late(h.max),
    meanMs: late(Number.isNaN(h.mean) ? 0 : h.mean),
    rawP99Ms: raw(h.percentile(99)),
    resolutionMs: RESOLUTION_MS,
    count: h.count,
  };
}

function countFds(): number {
  try {
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return -1;
  }
}

// /proc/net/tcp's `st` column (include/net/tcp_states.h).
const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** "0100007F:4965" (little-endian IPv4 on x86, hex port) → ["127.0.0.1", 18789]; IPv6 keeps its hex. */
function endpoint(hex: string): [string, number] {
  const [addr = '', port = '0'] = hex.split(':');
  const ip = addr.length === 8 ? [3, 2, 1, 0].map((i) => parseInt(addr.slice(i * 2, i * 2 + 2), 16)).join('.') : addr;
  return [ip, parseInt(port, 16)];
}

function countSockets(ports: { proxy: number; admin: number; pod: number }): SocketCounts {
  const inodes = new Set<string>();
  let socketFds = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let link = '';
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile, or readdir's own fd
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m === null) continue;
    socketFds++;
    inodes.add(m[1] ?? '');
  }
  const out: SocketCounts = { socketFds, byRole: {}, byState: {}, upstreamByPeer: {} };
  const bump = (c: Record<string, number>, k: string): void => {
    c[k] = (c[k] ?? 0) + 1;
  };
  for (const file of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9] ?? '')) continue;
      const [, localPort] = endpoint(f[1] ?? '');
      const [remoteIp, remotePort] = endpoint(f[2] ?? '');
      const state = TCP_STATES[(f[3] ?? '').toUpperCase()] ?? f[3] ?? '?';
      bump(out.byState, state);
      if (state === 'LISTEN') bump(out.byRole, 'listen');
      else if (localPort === ports.proxy) bump(out.byRole, 'client');
      else if (localPort === ports.admin) bump(out.byRole, 'admin');
      else if (remotePort === ports.pod) {
        bump(out.byRole, 'upstream');
        bump(out.upstreamByPeer, `${remoteIp}:${remotePort}`);
      } else bump(out.byRole, 'other');
    }
  }
  return out;
}

function sample(request: ProbeRequest, whole: IntervalHistogram, window: IntervalHistogram, ports: { proxy: number; admin: number; pod: number }): ProbeSample {
  const loopWindow = delay(window);
  const loopWhole = delay(whole);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (request.gc && gc !== undefined) {
    // Twice: the first may leave objects that only weak references or finalizers freed.
    gc();
    gc();
    // The histograms see the GC's pause when their timer next fires, after this returns: reset
    // them once that has happened, so the pause the probe caused is not counted as podgate's.
    setTimeout(() => {
      window.reset();
      if (request.resetWhole) whole.reset();
    }, 5 * RESOLUTION_MS);
  } else {
    window.reset();
    if (request.resetWhole) whole.reset();
  }
  const m = process.memoryUsage();
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  const cpu = process.cpuUsage();
  return {
    at: Date.now(),
    pid: process.pid,
    gc: request.gc && gc !== undefined,
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    heapTotalBytes: m.heapTotal,
    externalBytes: m.external,
    arrayBuffersBytes: m.arrayBuffers,
    fds: countFds(),
    sockets: countSockets(ports),
    resources,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    loopWindow,
    loopWhole,
  };
}

if (process.env.PODGATE_SOAK_PROBE === '1' && typeof process.send === 'function') {
  // "proxy,admin,pod" ports, to tell client, admin and upstream sockets apart.
  const [proxy = 0, admin = 0, pod = 0] = (process.env.PODGATE_SOAK_PORTS ?? '').split(',').map(Number);
  const ports = { proxy, admin, pod };
  const whole = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const window = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  whole.enable();
  window.enable();
  process.on('message', (m: unknown) => {
    const request = m as Partial<ProbeRequest> | null;
    if (request?.type !== 'soak-sample' || typeof request.id !== 'number') return;
    process.send?.({ type: 'soak-sample', id: request.id, sample: sample(request as ProbeRequest, whole, window, ports) });
  });
  // The bench went away (killed): stop as podgate stops on SIGTERM, not later by timeout(1).
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
