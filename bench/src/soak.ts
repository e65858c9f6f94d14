import { LabCluster, LabDnsServer, runLoad, type LoadReport, type RolloutStep, type TerminationMode } from '@podgate/lab';
import { DATA_PLANE_NODE_FLAGS } from '@podgate/podgate/node-flags';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { logTail, type Child, type Children } from './child-processes.js';
import { SOAK_DEFAULT_S, SOAK_QUICK_S } from './options.js';
import { ADMIN_PORTS, PORTS, PROXY_HOST, SOAK_DNS_NAME, SOAK_POD_PORT, SOAK_SUBNET } from './layout.js';
import { distFile, PODGATE_CLI, REPO_ROOT } from './paths.js';
import {
  runDisconnectingClients,
  runSlowClients,
  type DisconnectPlan,
  type DisconnectReport,
  type SlowClientPlan,
  type SlowClientReport,
} from './soak-clients.js';
import { FeedClients, type FeedReport } from './soak-feed.js';
import { runOperator, scrapeRequestsByStatus, type OperatorReport } from './soak-operator.js';
import type { LoopDelay, ProbeRequest, ProbeSample } from './soak-probe.js';
import { waitForHttp } from './wait.js';

/*
 * The soak (issue 17): podgate (the real CLI, 1 worker) in front of a lab cluster for a bounded
 * time under steady mixed traffic, rolling updates, operator actions and live-feed clients, to
 * show that errors stay at 0 and that memory, file descriptors and the event loop stay flat.
 * podgate runs in a process of its own with a small preloaded probe (soak-probe.ts) that reads
 * its memory, fds and event-loop delay; the pods, DNS and every client live in the bench process.
 */

export interface SoakPlan {
  quick: boolean;
  /** Traffic before the start sample (JIT, pools, heap sizing settle). */
  warmupS: number;
  /** The measured period, from the start sample to the end sample. */
  durationS: number;
  rolloutEveryS: number;
  /** First rollout this long into the measured period. */
  firstRolloutS: number;
  /** Grace period: hung pods are killed when it ends (Kubernetes' terminationGracePeriodSeconds). */
  graceMs: number;
  /** A blackholed pod (its node lost) is removed for good this long after it went silent. */
  blackholeLingerS: number;
  replicas: number;
  ttlS: number;
  /** Open-loop rates of the well-behaved clients, requests a second. */
  rates: { get: number; post64k: number; post1m: number };
  slow: SlowClientPlan;
  disconnect: DisconnectPlan;
  feedClients: number;
  operatorEveryMs: number;
  sampleEveryS: number;
  /** After the load, wait at most this long for podgate's fds to come back to the idle baseline. */
  quiesceMaxS: number;
  tolerance: Tolerance;
}

export interface Tolerance {
  /** Live heap (after a full GC): end may exceed start by max(bytes, share × start). */
  heapBytes: number;
  heapShare: number;
  rssBytes: number;
  rssShare: number;
  /** Under load, socket fds move with connections in flight; the other fds (files, pipes, epoll…) must not grow. */
  nonSocketFds: number;
  /** Upstream sockets to a pod closed this long ago are stale (podgate should have dropped them). */
  staleAfterMs: number;
  /** Idle, after the load and the feed clients are gone: back to the baseline within this. */
  fdsIdle: number;
}

const MiB = 2 ** 20;
const MODES: readonly TerminationMode[] = ['graceful', 'refuse', 'blackhole', 'hang'];
// A rollout takes about 4 × (100 ms ready + 500 ms pause) + the hang grace: none starts later than
// this (plus the grace) before the end sample, so the end is not taken in the middle of one.
const ROLLOUT_ROOM_S = 10;
// The clients go on this long past the end sample, so it is taken under the same load as the start.
const LOAD_OVERRUN_MS = 2000;
const LOAD_TIMEOUT_MS = 60_000;
// runLoad's own cap on requests; the rates × duration stay far below it (bounded in count as well as time).
const MAX_REQUESTS = 5_000_000;
const ERROR_SAMPLES_KEPT = 30;
// Viewer tokens the feed clients share (each its own dashboard user).
const VIEWERS = 4;

/** The plan: 10 minutes measured after a 30 s warm-up; quick: 50 s after 10 s, a rollout every 25 s. */
export function soakPlan(quick: boolean, durationS?: number): SoakPlan {
  const d = durationS ?? (quick ? SOAK_QUICK_S : SOAK_DEFAULT_S);
  const every = d >= 120 ? 60 : Math.max(10, Math.floor(d / 2));
  return {
    quick,
    warmupS: quick ? 10 : 30,
    durationS: d,
    rolloutEveryS: every,
    firstRolloutS: Math.max(3, Math.floor(every / 3)),
    graceMs: quick || d < 120 ? 5000 : 15_000,
    blackholeLingerS: quick || d < 120 ? 20 : 60,
    replicas: 4,
    ttlS: 5,
    rates: { get: 500, post64k: 100, post1m: 2 },
    slow: { clients: 6, bodyBytes: 64 * 1024, chunkBytes: 4096, chunkIntervalMs: 250, timeoutMs: 30_000 },
    disconnect: { perSecond: 4, bodyBytes: 64 * 1024, largeBodyBytes: 1024 * 1024 },
    feedClients: 20,
    operatorEveryMs: 2000,
    sampleEveryS: quick || d < 120 ? 5 : 10,
    quiesceMaxS: 40,
    tolerance: { heapBytes: 4 * MiB, heapShare: 0.1, rssBytes: 16 * MiB, rssShare: 0.15, nonSocketFds: 4, staleAfterMs: 5000, fdsIdle: 2 },
  };
}

/** When the rolling updates start, in seconds into the measured period: each ends before the end sample. */
export function rolloutOffsets(plan: SoakPlan): number[] {
  const out: number[] = [];
  for (let at = plan.firstRolloutS; at * 1000 + ROLLOUT_ROOM_S * 1000 + plan.graceMs <= plan.durationS * 1000; at += plan.rolloutEveryS) out.push(at);
  return out;
}

export interface RolloutRecord {
  index: number;
  /** Seconds into the measured period. */
  atS: number;
  modes: TerminationMode[];
  tookMs: number;
  steps: number;
  error?: string;
}

export interface SeriesPoint {
  /** Seconds since the load began (the measured period starts at warmupS). */
  t: number;
  label: 'sample' | 'start' | 'end';
  rssBytes: number;
  heapUsedBytes: number;
  fds: number;
  clientSockets: number;
  upstreamSockets: number;
  closeWait: number;
  loopP99Ms: number;
  loopMaxMs: number;
  /** The bench process's own event-loop p99 over the same window (is the load generator keeping up?). */
  benchLoopP99Ms: number;
}

export interface LoadSummary {
  id: 'get' | 'post64k' | 'post1m';
  label: string;
  ratePerSecond: number;
  report: Omit<LoadReport, 'samples'>;
  /** Completed requests a second over the measured period. */
  measuredRps: number;
}

export interface Verdict {
  ok: boolean;
  lines: string[];
}

export interface SoakReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  plan: SoakPlan;
  setup: string[];
  podgatePid: number;
  loads: LoadSummary[];
  /** Failed requests of the well-behaved clients, with when they started (s since the load began). */
  errorSamples: Array<{ t: number; kind: string; error: string; ms: number; duringRollout: number | null }>;
  slow: SlowClientReport;
  disconnect: DisconnectReport;
  feed: FeedReport;
  operator: OperatorReport;
  rollouts: RolloutRecord[];
  idleBaseline: ProbeSample;
  start: ProbeSample;
  end: ProbeSample;
  idleEnd: ProbeSample;
  /** Upstream sockets podgate still held at the end sample to pods closed more than staleAfterMs before, by pod. */
  staleUpstream: Record<string, number>;
  /** Seconds after the load until podgate's fds were back to the idle baseline, or null if they were not within quiesceMaxS. */
  quiesceS: number | null;
  series: SeriesPoint[];
  loopMeasured: LoopDelay;
  /** podgate's CPU over the measured period, in cores. */
  podgateCores: number;
  benchLoopP99Ms: number;
  podgateRequestsByStatus: Record<string, number>;
  /** What podgate logged at level warn and up: counts by kind (event type and reason, or cause), and the first error lines. */
  podgateLog: { warnings: number; errors: number; byKind: Record<string, number>; firstErrors: string[] };
  wellBehavedErrors: number;
  verdict: Verdict;
}

/** Asks soak-probe.ts in the podgate process for a sample. */
class Probe {
  readonly #child: Child;
  readonly #waiting = new Map<number, (s: ProbeSample) => void>();
  #next = 1;

  constructor(child: Child) {
    this.#child = child;
    child.process.on('message', (m: unknown) => {
      const msg = m as { type?: string; id?: number; sample?: ProbeSample };
      if (msg.type !== 'soak-sample' || msg.id === undefined || msg.sample === undefined) return;
      this.#waiting.get(msg.id)?.(msg.sample);
      this.#waiting.delete(msg.id);
    });
  }

  sample(gc: boolean, resetWhole = false, timeoutMs = 10_000): Promise<ProbeSample> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`podgate's soak probe did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      const request: ProbeRequest = { type: 'soak-sample', id, gc, resetWhole };
      this.#child.process.send(request);
    });
  }
}

function soakConfigYaml(nameserver: string, stateDir: string, operatorToken: string, viewerTokens: readonly string[]): string {
  return `# generated by podgate bench --soak (bench/src/soak.ts): the shipped defaults, no access log
listen: ${PROXY_HOST}:${PORTS.podgateSoak}
workers: 1
stateDir: ${stateDir}
log: { level: warn, access: false }
dns:
  nameservers: [${nameserver}]
  timeout: 500ms
  attempts: 2
admin:
  listen: ${PROXY_HOST}:${ADMIN_PORTS.podgateSoak}
  tokens:
    - { name: soak-operator, token: ${operatorToken}, role: operator }
${viewerTokens.map((token, i) => `    - { name: soak-dashboard-${i + 1}, token: ${token}, role: viewer }`).join('\n')}
services:
  pods:
    dnsName: ${SOAK_DNS_NAME}
    port: ${SOAK_POD_PORT}
`;
}

function withinTolerance(start: number, end: number, bytesOrCount: number, share: number): boolean {
  return end - start <= Math.max(bytesOrCount, share * start);
}

export interface SoakContext {
  children: Children;
  /** Scratch directory: config, state, podgate's log. */
  dir: string;
  log: (line: string) => void;
  command: string;
}

export async function runSoak(ctx: SoakContext, plan: SoakPlan): Promise<SoakReport> {
  const startedAt = new Date().toISOString();
  const { children, log } = ctx;
  const operatorToken = randomBytes(24).toString('hex');
  // The feed clients are several people's dashboards: podgate caps feed connections per token
  // (admin.feed.maxConnectionsPerToken, 16 by default), so 20 tabs on one token would be refused.
  const viewerTokens = Array.from({ length: VIEWERS }, () => randomBytes(24).toString('hex'));
  const viewerToken = viewerTokens[0] as string;
  const timers = new Set<NodeJS.Timeout>();
  const stop = new AbortController();
  let dns: LabDnsServer | null = null;
  let cluster: LabCluster | null = null;
  let podgate: Child | null = null;
  let feed: FeedClients | null = null;
  let podgateGone: string | null = null;
  let result: SoakReport | null = null;
  try {
    dns = await LabDnsServer.start({ host: PROXY_HOST, port: 0 });
    cluster = await LabCluster.start({
      dns,
      dnsName: SOAK_DNS_NAME,
      replicas: plan.replicas,
      ttl: plan.ttlS,
      port: SOAK_POD_PORT,
      subnet: SOAK_SUBNET,
      podDelayMs: 2,
    });
    log(`soak: ${plan.replicas} lab pods on ${cluster.listed.join(', ')}; lab DNS on ${dns.nameserver} (TTL ${plan.ttlS} s)`);

    const configFile = join(ctx.dir, 'podgate-soak.yaml');
    writeFileSync(configFile, soakConfigYaml(dns.nameserver, join(ctx.dir, 'podgate-soak-state'), operatorToken, viewerTokens));
    const extra = (process.env.PODGATE_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const nodeArgs = [...DATA_PLANE_NODE_FLAGS, '--expose-gc', '--import', pathToFileURL(distFile('soak-probe.js')).href, ...extra];
    podgate = children.spawn({
      name: 'podgate-soak',
      command: process.execPath,
      args: [...nodeArgs, PODGATE_CLI, '--config', configFile],
      logFile: join(ctx.dir, 'podgate-soak.log'),
      cwd: REPO_ROOT,
      env: { ...process.env, PODGATE_SOAK_PROBE: '1', PODGATE_SOAK_PORTS: `${PORTS.podgateSoak},${ADMIN_PORTS.podgateSoak},${SOAK_POD_PORT}` },
      ipc: true,
      lifetimeS: plan.warmupS + plan.durationS + plan.quiesceMaxS + 300,
    });
    const child = podgate;
    void child.exited.then((code) => {
      if (stop.signal.aborted) return;
      podgateGone = `podgate exited during the soak (code ${code ?? 'none: killed by a signal'})\n${logTail(child.logFile)}`;
      stop.abort();
    });
    const proxyUrl = `http://${PROXY_HOST}:${PORTS.podgateSoak}`;
    const adminUrl = `http://${PROXY_HOST}:${ADMIN_PORTS.podgateSoak}`;
    try {
      await waitForHttp(`${adminUrl}/readyz`, 20_000, () => child.process.exitCode === null);
      await waitForHttp(`${proxyUrl}/healthz`, 20_000, () => child.process.exitCode === null);
    } catch (err) {
      throw new Error(`podgate did not start: ${(err as Error).message}\n${logTail(child.logFile)}`);
    }
    await waitForPeers(adminUrl, viewerToken, plan.replicas);
    const probe = new Probe(child);
    // The pods close idle keep-alive connections after 5 s: wait them out, so the baseline holds
    // no upstream connection left by the readiness checks.
    await sleep(6000);
    const idleBaseline = await probe.sample(true);
    log(
      `soak: podgate pid ${idleBaseline.pid} (real CLI, 1 worker, probe preloaded) on ${proxyUrl}, admin ${adminUrl}; idle: RSS ${mib(idleBaseline.rssBytes)}, live heap ${mib(idleBaseline.heapUsedBytes)}, ${idleBaseline.fds} fds`,
    );

    feed = new FeedClients(`ws://${PROXY_HOST}:${ADMIN_PORTS.podgateSoak}/api/v1/live`, viewerTokens, plan.feedClients);
    await feed.open(10_000);
    log(`soak: ${plan.feedClients} live-feed clients connected (Authorization: Bearer on the upgrade, ${VIEWERS} viewer tokens), each has its snapshot`);

    // ---- load -------------------------------------------------------------------------------
    const loadStart = performance.now();
    const totalS = plan.warmupS + plan.durationS;
    const measuredStart = loadStart + plan.warmupS * 1000;
    const measuredEnd = loadStart + totalS * 1000;
    const loadDeadline = measuredEnd + LOAD_OVERRUN_MS;
    const sinceLoad = (): number => performance.now() - loadStart;
    const benchLoop = monitorEventLoopDelay({ resolution: 10 });
    const benchWindow = monitorEventLoopDelay({ resolution: 10 });
    benchLoop.enable();
    benchWindow.enable();
    log(
      `soak: ${plan.warmupS} s warm-up then ${plan.durationS} s measured: GET ${plan.rates.get}/s, POST 64 KiB ${plan.rates.post64k}/s, POST 1 MiB ${plan.rates.post1m}/s, ` +
        `${plan.slow.clients} slow senders, ${plan.disconnect.perSecond}/s disconnecting mid-body, an operator action every ${plan.operatorEveryMs / 1000} s, a rolling update every ${plan.rolloutEveryS} s`,
    );
    const load = (path: string, method: string, bodyBytes: number, rate: number): Promise<LoadReport> =>
      runLoad({
        url: `${proxyUrl}${path}`,
        method,
        bodyBytes,
        ratePerSecond: rate,
        durationMs: totalS * 1000 + LOAD_OVERRUN_MS,
        maxRequests: MAX_REQUESTS,
        timeoutMs: LOAD_TIMEOUT_MS,
        keepSamples: true,
        stop: stop.signal,
      });
    const loads = Promise.all([
      load('/echo', 'GET', 0, plan.rates.get),
      load('/recognize', 'POST', 64 * 1024, plan.rates.post64k),
      load('/recognize', 'POST', 1024 * 1024, plan.rates.post1m),
    ]);
    const slow = runSlowClients(PROXY_HOST, PORTS.podgateSoak, '/recognize', plan.slow, loadDeadline, stop.signal, MAX_REQUESTS);
    const disconnect = runDisconnectingClients(PROXY_HOST, PORTS.podgateSoak, '/recognize', plan.disconnect, loadDeadline, stop.signal, MAX_REQUESTS);
    const operator = runOperator({
      adminUrl,
      service: 'pods',
      operatorToken,
      viewerToken,
      everyMs: plan.operatorEveryMs,
      deadline: loadDeadline,
      stop: stop.signal,
      maxActions: 100_000,
      clock: sinceLoad,
    });

    // ---- rolling updates --------------------------------------------------------------------
    const rollouts: RolloutRecord[] = [];
    const theCluster = cluster;
    // When each pod went away for good (closed: its address answers nothing any more).
    const goneAt = new Map<string, number>();
    const rolling = (async () => {
      for (const [k, offset] of rolloutOffsets(plan).entries()) {
        const at = measuredStart + offset * 1000;
        await sleep(Math.max(0, at - performance.now()), undefined, { signal: stop.signal }).catch(() => undefined);
        if (stop.signal.aborted) return;
        const modes = MODES.map((_, i) => MODES[(i + k) % MODES.length] as TerminationMode);
        const record: RolloutRecord = { index: k + 1, atS: Math.round((performance.now() - measuredStart) / 100) / 10, modes, tookMs: 0, steps: 0 };
        rollouts.push(record);
        const t = performance.now();
        log(`soak: rolling update ${k + 1} (${modes.join(', ')}) at ${record.atS} s`);
        try {
          const steps = await theCluster.rollingUpdate({
            mode: modes,
            maxSurge: 1,
            maxUnavailable: 0,
            dnsLagMs: 1000,
            stepPauseMs: 500,
            graceMs: plan.graceMs,
            onStep: (s: RolloutStep) => {
              if (s.kind === 'pod_closed') goneAt.set(s.address, performance.now());
              if (s.kind !== 'pod_terminating' || s.mode !== 'blackhole') return;
              // Its node is gone for good a while later: the address stops answering at all.
              const timer = setTimeout(() => {
                timers.delete(timer);
                const pod = theCluster.allPods.find((p) => p.name === s.pod);
                void pod?.close().then(() => goneAt.set(s.address, performance.now()));
              }, plan.blackholeLingerS * 1000);
              timers.add(timer);
            },
          });
          record.steps = steps.length;
        } catch (err) {
          record.error = (err as Error).message;
          log(`soak: rolling update ${k + 1} failed: ${record.error}`);
        }
        record.tookMs = Math.round(performance.now() - t);
      }
    })();

    // Awaited below; until then a failure must not count as an unhandled rejection.
    for (const p of [loads, slow, disconnect, operator, rolling]) p.catch(() => undefined);

    // ---- samples ----------------------------------------------------------------------------
    const series: SeriesPoint[] = [];
    const points = new Map<number, SeriesPoint['label']>();
    for (let t = plan.sampleEveryS; t < totalS; t += plan.sampleEveryS) points.set(t, 'sample');
    points.set(plan.warmupS, 'start');
    points.set(totalS, 'end');
    let start: ProbeSample | null = null;
    let end: ProbeSample | null = null;
    const staleUpstream: Record<string, number> = {};
    for (const t of [...points.keys()].sort((a, b) => a - b)) {
      await sleep(Math.max(0, loadStart + t * 1000 - performance.now()), undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) break;
      const label = points.get(t) ?? 'sample';
      // Start: a full GC, then the whole-period loop histogram starts (after the GC's pause).
      // End: the loop figures are read first, then a full GC for the live heap.
      const s = await probe.sample(label !== 'sample', label === 'start');
      const benchP99 = late(benchWindow.percentile(99));
      benchWindow.reset();
      if (label === 'start') {
        start = s;
        benchLoop.reset();
      }
      if (label === 'end') {
        end = s;
        const now = performance.now();
        for (const [peer, n] of Object.entries(s.sockets.upstreamByPeer)) {
          const gone = goneAt.get(peer);
          if (gone !== undefined && now - gone > plan.tolerance.staleAfterMs) staleUpstream[peer] = n;
        }
      }
      series.push({
        t,
        label,
        rssBytes: s.rssBytes,
        heapUsedBytes: s.heapUsedBytes,
        fds: s.fds,
        clientSockets: s.sockets.byRole.client ?? 0,
        upstreamSockets: s.sockets.byRole.upstream ?? 0,
        closeWait: s.sockets.byState.CLOSE_WAIT ?? 0,
        loopP99Ms: s.loopWindow.p99Ms,
        loopMaxMs: s.loopWindow.maxMs,
        benchLoopP99Ms: benchP99,
      });
      if (label !== 'sample' || t % 60 === 0 || plan.quick) {
        log(
          `soak: ${t} s ${label === 'sample' ? '' : `(${label}) `}podgate RSS ${mib(s.rssBytes)}, heap ${mib(s.heapUsedBytes)}${s.gc ? ' after GC' : ''}, ${s.fds} fds, loop delay p99 ${s.loopWindow.p99Ms} ms (the bench's own ${benchP99} ms)`,
        );
      }
    }
    const benchLoopP99Ms = late(benchLoop.percentile(99));
    benchLoop.disable();
    benchWindow.disable();

    // ---- wind down --------------------------------------------------------------------------
    log('soak: load over; waiting for the last requests, the rollout in progress and the operator');
    stop.abort();
    const [getR, post64kR, post1mR] = await loads;
    const slowR = await slow;
    const disconnectR = await disconnect;
    const operatorR = await operator;
    await rolling;
    const feedR = await feed.close(5000);
    feed = null;
    if (podgateGone !== null) throw new Error(podgateGone);
    if (start === null || end === null) throw new Error('the soak ended before its start or end sample');

    // Quiesce: no client left. podgate's fds should come back to the idle baseline (pods close
    // idle upstream connections after 5 s; silent ones are podgate's to close, keepalive.idleTimeout 30 s).
    const quiesceStart = performance.now();
    let quiesceS: number | null = null;
    let fds = -1;
    while (performance.now() - quiesceStart < plan.quiesceMaxS * 1000) {
      fds = (await probe.sample(false)).fds;
      if (fds <= idleBaseline.fds + plan.tolerance.fdsIdle) {
        quiesceS = Math.round((performance.now() - quiesceStart) / 100) / 10;
        break;
      }
      await sleep(1000);
    }
    const idleEnd = await probe.sample(true);
    log(
      `soak: idle again after ${quiesceS === null ? `more than ${plan.quiesceMaxS} s (still ${fds} fds)` : `${quiesceS} s`}: RSS ${mib(idleEnd.rssBytes)}, live heap ${mib(idleEnd.heapUsedBytes)}, ${idleEnd.fds} fds`,
    );
    const podgateRequestsByStatus = await scrapeRequestsByStatus(adminUrl, viewerToken).catch(() => ({}));

    // ---- report -----------------------------------------------------------------------------
    const kinds = [
      { id: 'get' as const, label: 'GET /echo (~300 B answer)', rate: plan.rates.get, r: getR },
      { id: 'post64k' as const, label: 'POST /recognize 64 KiB', rate: plan.rates.post64k, r: post64kR },
      { id: 'post1m' as const, label: 'POST /recognize 1 MiB', rate: plan.rates.post1m, r: post1mR },
    ];
    const rolloutWindows = rollouts.map((r) => ({ index: r.index, from: plan.warmupS + r.atS, to: plan.warmupS + r.atS + r.tookMs / 1000 }));
    const errorSamples: SoakReport['errorSamples'] = [];
    for (const k of kinds) {
      for (const s of k.r.samples ?? []) {
        if (s.status >= 200 && s.status < 300) continue;
        if (errorSamples.length >= ERROR_SAMPLES_KEPT) break;
        const t = s.start / 1000;
        const during = rolloutWindows.find((w) => t >= w.from - 1 && t <= w.to + 1)?.index ?? null;
        errorSamples.push({ t: Math.round(t * 10) / 10, kind: k.id, error: s.error ?? `status ${s.status}`, ms: Math.round(s.ms), duringRollout: during });
      }
    }
    const loadsOut: LoadSummary[] = kinds.map((k) => {
      const { samples: _samples, ...report } = k.r;
      const measured = k.r.perSecond.slice(plan.warmupS, totalS).reduce((a, b) => a + b, 0);
      return { id: k.id, label: k.label, ratePerSecond: k.rate, report, measuredRps: Math.round((measured / plan.durationS) * 10) / 10 };
    });
    const wellBehavedErrors = loadsOut.reduce((n, l) => n + l.report.errors, 0);
    const measuredS = (end.at - start.at) / 1000;
    const podgateCores = (end.cpuUserUs + end.cpuSystemUs - start.cpuUserUs - start.cpuSystemUs) / 1e6 / Math.max(1, measuredS);
    const report: SoakReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      command: ctx.command,
      plan,
      setup: [
        `podgate: node ${nodeArgs.join(' ').replace(/file:\/\/\S+\/bench\/dist\//, 'bench/dist/')} apps/podgate/dist/cli.js --config podgate-soak.yaml; workers 1, the shipped defaults (retry on error, timeout, invalid_header, 502, 500, non_idempotent; connect 2 s; rescue and hedging on), access log off`,
        `the probe (bench/src/soak-probe.ts) reads podgate's memory, /proc/self/fd and perf_hooks.monitorEventLoopDelay (10 ms resolution, taken off every figure: the histogram records the time between its ticks) in podgate's process; --expose-gc lets it run a full GC before the start and end heap figures`,
        `pods: LabCluster, ${plan.replicas} replicas on 127.${SOAK_SUBNET}.x.y:${SOAK_POD_PORT}, a fresh address per pod, lab DNS TTL ${plan.ttlS} s; rolling updates maxSurge 1, maxUnavailable 0, DNS lag 1 s, 0.5 s between steps, grace ${plan.graceMs / 1000} s (hung pods are killed then), modes rotating over ${MODES.join(', ')}; a blackholed pod is closed ${plan.blackholeLingerS} s after it went silent`,
        `well-behaved clients: lab runLoad (undici, keep-alive), open loop, ${LOAD_TIMEOUT_MS / 1000} s timeout; slow senders: raw sockets, ${plan.slow.bodyBytes / 1024} KiB in ${plan.slow.chunkBytes / 1024} KiB chunks every ${plan.slow.chunkIntervalMs} ms, Connection: close; disconnecting clients: raw sockets, ${plan.disconnect.bodyBytes / 1024} KiB (every fourth 1 MiB) declared, part sent, then FIN or RST (alternately) after 20-200 ms`,
        `live feed: ${plan.feedClients} undici WebSocket clients on ws://${PROXY_HOST}:${ADMIN_PORTS.podgateSoak}/api/v1/live with Authorization: Bearer <viewer token> (${VIEWERS} viewer tokens, ${Math.ceil(plan.feedClients / VIEWERS)} tabs each); operator: POST …/peers/:address/{drain,eject,restore} with the operator token every ${plan.operatorEveryMs / 1000} s, and the service list, events and /metrics every ${(plan.operatorEveryMs * 5) / 1000} s with the viewer token`,
      ],
      podgatePid: idleBaseline.pid,
      loads: loadsOut,
      errorSamples,
      slow: slowR,
      disconnect: disconnectR,
      feed: feedR,
      operator: operatorR,
      rollouts,
      idleBaseline,
      start,
      end,
      idleEnd,
      staleUpstream,
      quiesceS,
      series,
      loopMeasured: end.loopWhole,
      podgateCores: Math.round(podgateCores * 100) / 100,
      benchLoopP99Ms,
      podgateRequestsByStatus,
      podgateLog: { warnings: 0, errors: 0, byKind: {}, firstErrors: [] },
      wellBehavedErrors,
      verdict: { ok: true, lines: [] },
    };
    report.verdict = verdict(report);
    result = report;
  } finally {
    stop.abort();
    for (const timer of timers) clearTimeout(timer);
    await feed?.close(1000);
    if (podgate !== null) await children.stop(podgate, 25_000);
    await cluster?.close();
    await dns?.close();
  }
  // Read once podgate has stopped: what it logs on the way out counts too.
  result.podgateLog = readPodgateLog(podgate.logFile);
  return result;
}

/** Warnings and errors podgate logged (its log is JSON lines at level warn and up), by kind. */
export function readPodgateLog(file: string): SoakReport['podgateLog'] {
  const out: SoakReport['podgateLog'] = { warnings: 0, errors: 0, byKind: {}, firstErrors: [] };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let entry: { level?: unknown; type?: unknown; reason?: unknown; cause?: unknown; msg?: unknown } = {};
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // Not JSON: node's own stderr (a warning, a crash): counted as an error.
      entry = { level: 50, msg: line };
    }
    const level = Number(entry.level ?? 0);
    if (level < 40) continue;
    const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const kind =
      text(entry.type) !== undefined
        ? `${text(entry.type)}${text(entry.reason) === undefined ? '' : ` ${text(entry.reason)}`}`
        : text(entry.cause) !== undefined
          ? `request try failed: ${text(entry.cause)}`
          : (text(entry.msg) ?? '?').slice(0, 80);
    const key = `${level >= 50 ? 'error' : 'warn'} ${kind}`;
    out.byKind[key] = (out.byKind[key] ?? 0) + 1;
    if (level >= 50) {
      out.errors++;
      if (out.firstErrors.length < 10) out.firstErrors.push(line.slice(0, 400));
    } else out.warnings++;
  }
  return out;
}

export function verdict(r: SoakReport): Verdict {
  const t = r.plan.tolerance;
  const lines: string[] = [];
  let ok = true;
  const check = (pass: boolean, text: string): void => {
    if (!pass) ok = false;
    lines.push(`${pass ? 'ok  ' : 'FAIL'} ${text}`);
  };
  const byKind = r.loads.flatMap((l) => Object.entries(l.report.byError).map(([k, n]) => `${l.id} ${k}=${n}`));
  check(r.wellBehavedErrors === 0, `well-behaved client errors: ${r.wellBehavedErrors}${byKind.length === 0 ? '' : ` (${byKind.join(', ')})`}`);
  check(r.feed.problems === 0, `live-feed problems (unexpected closes, errors, malformed messages, no snapshot first): ${r.feed.problems}`);
  check(r.operator.errors === 0, `admin API errors: ${r.operator.errors}`);
  const failedRollouts = r.rollouts.filter((x) => x.error !== undefined).length;
  check(failedRollouts === 0 && r.rollouts.length > 0, `rolling updates: ${r.rollouts.length} done, ${failedRollouts} failed`);
  const heapOk = withinTolerance(r.start.heapUsedBytes, r.end.heapUsedBytes, t.heapBytes, t.heapShare);
  check(heapOk, `live heap flat: ${mib(r.start.heapUsedBytes)} → ${mib(r.end.heapUsedBytes)} (tolerance +${mib(t.heapBytes)} or +${t.heapShare * 100} %)`);
  const rssOk = withinTolerance(r.start.rssBytes, r.end.rssBytes, t.rssBytes, t.rssShare);
  check(rssOk, `RSS flat: ${mib(r.start.rssBytes)} → ${mib(r.end.rssBytes)} (tolerance +${mib(t.rssBytes)} or +${t.rssShare * 100} %)`);
  const roles = (p: ProbeSample): string =>
    `client ${p.sockets.byRole.client ?? 0}, upstream ${p.sockets.byRole.upstream ?? 0}, admin and feed ${p.sockets.byRole.admin ?? 0}`;
  lines.push(
    `info fds under load: ${r.start.fds} → ${r.end.fds} (TCP sockets ${roles(r.start)} → ${roles(r.end)}: they move with the connections in flight); CLOSE_WAIT ${r.start.sockets.byState.CLOSE_WAIT ?? 0} → ${r.end.sockets.byState.CLOSE_WAIT ?? 0}`,
  );
  const nonSocket = (p: ProbeSample): number => p.fds - p.sockets.socketFds;
  check(
    nonSocket(r.end) - nonSocket(r.start) <= t.nonSocketFds,
    `fds other than sockets under load flat: ${nonSocket(r.start)} → ${nonSocket(r.end)} (tolerance +${t.nonSocketFds})`,
  );
  const stale = Object.values(r.staleUpstream).reduce((a, b) => a + b, 0);
  check(
    stale === 0,
    `upstream sockets still open at the end to pods gone more than ${t.staleAfterMs / 1000} s: ${stale}${
      stale === 0
        ? ''
        : ` (${Object.entries(r.staleUpstream)
            .map(([p, n]) => `${p} ×${n}`)
            .join(', ')})`
    }`,
  );
  lines.push(
    `info event-loop delay in podgate over the measured period: p99 ${r.loopMeasured.p99Ms} ms, max ${r.loopMeasured.maxMs} ms; ${r.loads.reduce((n, l) => n + l.measuredRps, 0).toFixed(0)} req/s of well-behaved clients`,
  );
  check(
    r.idleEnd.fds <= r.idleBaseline.fds + t.fdsIdle,
    `fds idle: ${r.idleBaseline.fds} before any traffic → ${r.idleEnd.fds} after it (tolerance +${t.fdsIdle}; back in ${r.quiesceS === null ? `more than ${r.plan.quiesceMaxS}` : r.quiesceS} s)`,
  );
  return { ok, lines };
}

async function waitForPeers(adminUrl: string, token: string, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetchJson(`${adminUrl}/api/v1/services/pods`, token);
      const active = ((res as { peers?: Array<{ state: string }> }).peers ?? []).filter((p) => p.state === 'active').length;
      if (active >= count) return;
      last = `${active} active peers`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`podgate did not list ${count} active peers within 15 s (${last})`);
}

async function fetchJson(url: string, token: string): Promise<unknown> {
  // httpOnce has no headers option; node's fetch is undici's, bounded here by a signal.
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) });
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

/** A monitorEventLoopDelay figure less its 10 ms resolution, as soak-probe.ts reports podgate's. */
function late(ns: number): number {
  return Math.max(0, Math.round((ns / 1e6 - 10) * 100) / 100);
}

export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
