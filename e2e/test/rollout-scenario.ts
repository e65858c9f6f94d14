import { Podgate, resolveConfig } from '@podgate/podgate';
import { LabCluster, LabDnsServer, runLoad, type LoadReport, type RolloutStep, type TerminationMode } from '@podgate/lab';
import type { EventView } from '@podgate/protocol';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';

export interface RolloutResult {
  mode: TerminationMode | 'mixed';
  report: LoadReport;
  steps: RolloutStep[];
  events: EventView[];
  retries: number;
  /** Log lines of requests that did not end in 2xx: their access line and every failure on the way. */
  failureLog: string[];
  /** Median of the completed requests per whole second of the run. */
  steadyRate: number;
  /** Whole seconds in which fewer than half the steady rate completed (the issue's "stall"). */
  stalledSeconds: number[];
  /** Date.now() when the rollout began: steps' `at` count from here, events' `at` are epoch ms. */
  rolloutStartedAt: number;
}

export interface RolloutScenario {
  mode: TerminationMode | 'mixed';
  /** DNS TTL of the pods' records, seconds. */
  ttl?: number;
  concurrency?: number;
  /** An open loop at this rate instead of `concurrency` closed-loop clients. */
  ratePerSecond?: number;
  dnsLagMs?: number;
  podDelayMs?: number;
  /** Data-plane worker processes; default 1 (in-process). */
  workers?: number;
  /** Pods of the Deployment; default 4. */
  replicas?: number;
  /** Default 1, as issue 5's rows. */
  maxSurge?: number;
  /** Default 0, as issue 5's rows. */
  maxUnavailable?: number;
  /** Pause after each rollout step; default 500 ms. */
  stepPauseMs?: number;
  /** podgate's `dns.minRefresh`; default 1s (docs/config.md). */
  minRefresh?: string;
  /** podgate's `dns.maxRefresh`; default 30s. Both at 30s pin the refresh as issue 12's seed did. */
  maxRefresh?: string;
  /**
   * The lab DNS serves each answer this long after a change, as a stale caching resolver would
   * (issue 12); set once the first pods are listed, so podgate starts with them. Default 0.
   */
  staleMs?: number;
  /** Load goes on this long after the rollout ends; default 1500 ms. */
  tailMs?: number;
  /** Keep the bodies of the first this many non-2xx answers (report.errorBodies); default 0. */
  keepErrorBodies?: number;
  /**
   * Which quantile of the whole seconds is the steady rate (default 0.75). A rollout behind a stale
   * resolver runs 23 s in phases of several seconds with different numbers of known pods and rates
   * that differ by half (2,200/s most of a run, 3,300/s for 3 s): the upper quartile is the fast
   * phase's rate, and a dip is measured against it, not against the run's usual rate (the median).
   */
  steadyQuantile?: number;
}

// Separate worker processes still ran their first measured second at 45-55 % of the steady rate
// after a 1 s warm-up (the row then failed on second 0, before the rollout began): 3 s for them.
const WARM_UP_MS = 1000;
const WARM_UP_WORKERS_MS = 3000;
const DNS_NAME = 'image-lobby.lab.svc.cluster.local';
const POD_PORT = 18080;

/**
 * The issue's rollout scenario: 4 pods, a full rolling update (maxSurge 1, maxUnavailable 0)
 * while 32 closed-loop clients POST 64 KiB through podgate, with the seed's retry settings plus
 * `timeout`, connect timeout 5 s and response header timeout 10 s. The service has no
 * `returnProbe` (no health path): what podgate finds must be found without config.
 */
export async function runRolloutScenario(s: RolloutScenario): Promise<RolloutResult> {
  const replicas = s.replicas ?? 4;
  const dns = await LabDnsServer.start();
  const cluster = await LabCluster.start({ dns, dnsName: DNS_NAME, replicas, ttl: s.ttl ?? 5, port: POD_PORT, podDelayMs: s.podDelayMs ?? 5 });
  if (s.staleMs !== undefined) dns.setStaleMs(s.staleMs);
  const events: EventView[] = [];
  const config = resolveConfig({
    listen: '127.0.0.1:0',
    dns: { nameservers: [dns.nameserver], timeout: '500ms', attempts: 2, minRefresh: s.minRefresh ?? '1s', maxRefresh: s.maxRefresh ?? '30s' },
    log: { level: 'silent', access: false },
    workers: s.workers ?? 1,
    stateDir: mkdtempSync(join(tmpdir(), 'podgate-rollout-')),
    admin: { listen: '127.0.0.1:0' },
    services: {
      'image-lobby': {
        dnsName: DNS_NAME,
        port: POD_PORT,
        retry: { tries: 3, on: ['error', 'timeout', 'invalid_header', 'http_502', 'http_500', 'non_idempotent'] },
        timeouts: { connect: '5s', responseHeader: '10s' },
      },
    },
  });
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  // Access lines are read from this process's logger; worker processes would print theirs instead.
  const inProcess = (s.workers ?? 1) === 1;
  const podgate = await Podgate.start(inProcess ? { ...config, log: { level: 'info', access: true } } : config, { logger });
  podgate.control.subscribe((c) => {
    if (c.kind === 'event') events.push(c.event);
  });
  try {
    const peers = (): number => podgate.control.getService('image-lobby')?.peers.length ?? 0;
    for (let i = 0; i < 100 && peers() < replicas; i++) await sleep(50);
    const shape = {
      url: `http://127.0.0.1:${podgate.port}/recognize`,
      ...(s.ratePerSecond === undefined ? { concurrency: s.concurrency ?? 32 } : { ratePerSecond: s.ratePerSecond }),
      bodyBytes: 64 * 1024,
      timeoutMs: 60_000,
    };
    // Warm-up, not measured: fresh code runs at half speed at first (cold code, worker processes
    // the longest), which is not what a rollout does to clients.
    await runLoad({ ...shape, durationMs: inProcess ? WARM_UP_MS : WARM_UP_WORKERS_MS });
    const stop = new AbortController();
    const loadStartedAt = Date.now();
    const load = runLoad({ ...shape, durationMs: 120_000, stop: stop.signal, keepErrorBodies: s.keepErrorBodies ?? 0 });
    await sleep(1000);
    const rolloutStartedAt = Date.now();
    const steps = await cluster.rollingUpdate({
      mode: s.mode,
      maxSurge: s.maxSurge ?? 1,
      maxUnavailable: s.maxUnavailable ?? 0,
      dnsLagMs: s.dnsLagMs ?? 1000,
      stepPauseMs: s.stepPauseMs ?? 500,
      graceMs: 5000,
    });
    await sleep(s.tailMs ?? 1500);
    stop.abort();
    const report = await load;
    // Seconds that end before the rollout begins say nothing about it (a fresh CI machine ran one
    // such second at under half the rate, with the rollout still a second away).
    const firstRolloutSecond = Math.floor((rolloutStartedAt - loadStartedAt) / 1000);
    const { steadyRate, stalledSeconds } = stalls(report.perSecond, s.steadyQuantile, firstRolloutSecond);
    return {
      mode: s.mode,
      report,
      steps,
      events,
      retries: podgate.control.getService('image-lobby')?.retries ?? 0,
      failureLog: failureLog(lines),
      steadyRate,
      stalledSeconds,
      rolloutStartedAt,
    };
  } finally {
    await podgate.close(1000);
    await cluster.close();
    await dns.close();
  }
}

/**
 * The steady rate is the upper quartile of the whole seconds (the last one is partial and
 * dropped), so a stall as long as a quarter of the run still cannot drag it down; a second below
 * half of it is a stall that clients would feel as a dip in throughput. A long run in phases of
 * different rates takes a lower `quantile` (see steadyQuantile). Seconds before `firstSecond`
 * count toward the steady rate but are not checked for stalls.
 */
export function stalls(perSecond: readonly number[], quantile = 0.75, firstSecond = 0): { steadyRate: number; stalledSeconds: number[] } {
  const whole = perSecond.slice(0, -1);
  const sorted = [...whole].sort((a, b) => a - b);
  const steadyRate = sorted.length === 0 ? 0 : (sorted[Math.floor(sorted.length * quantile)] as number);
  const stalledSeconds: number[] = [];
  whole.forEach((n, second) => {
    if (second >= firstSecond && n < steadyRate / 2) stalledSeconds.push(second);
  });
  return { steadyRate, stalledSeconds };
}

/** The test output's line for a row: the summary, the errors by kind and podgate's ejections. */
export function rowLine(label: string, r: RolloutResult): string {
  const kinds = Object.entries(r.report.byError).map(([k, n]) => `${k}=${n}`);
  const statuses = Object.entries(r.report.byStatus).map(([k, n]) => `${k}=${n}`);
  const ejections = r.events.filter((e) => e.type === 'peer_ejected').map((e) => `${e.address} ${e.reason}`);
  return `${summary(label, r)} | errors by kind: ${kinds.join(' ') || 'none'} | statuses: ${statuses.join(' ')} | ejections: ${ejections.join(', ') || 'none'}`;
}

/** The rollout's steps and podgate's events on one clock (s since the rollout began), to read a failure. */
export function timeline(r: RolloutResult): string[] {
  const entries: Array<[number, string]> = [
    ...r.steps.map((st): [number, string] => [st.at, `lab ${st.kind} ${st.pod} ${st.address}${st.mode === undefined ? '' : ` ${st.mode}`}`]),
    ...r.events.map((e): [number, string] => [
      e.at - r.rolloutStartedAt,
      `podgate ${e.type}${e.address === undefined ? '' : ` ${e.address}`}${e.reason === undefined ? '' : ` ${e.reason}`}${e.detail === undefined ? '' : ` (${e.detail})`}`,
    ]),
  ];
  return entries.sort((a, b) => a[0] - b[0]).map(([at, what]) => `${(at / 1000).toFixed(3).padStart(8)} s  ${what}`);
}

/** One line for the test output and the note: the matrix's figures for one run. */
export function summary(label: string, r: RolloutResult): string {
  const l = r.report.latencyMs;
  return `${label}: ${r.report.total} requests, ${r.report.errors} errors, p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms, steady ${r.steadyRate}/s, stalled seconds ${r.stalledSeconds.length === 0 ? 'none' : r.stalledSeconds.join(',')}, retries ${r.retries}, per second ${r.report.perSecond.join(' ')}`;
}

function failureLog(lines: readonly string[]): string[] {
  const failed = new Set<string>();
  for (const line of lines) {
    const entry = JSON.parse(line) as { req?: string; status?: number };
    const slow = (entry as { ms?: number }).ms !== undefined && ((entry as { ms?: number }).ms as number) >= 1000;
    if (entry.req !== undefined && entry.status !== undefined && (entry.status < 200 || entry.status > 299 || slow)) failed.add(entry.req);
  }
  return lines.filter((line) => {
    const req = (JSON.parse(line) as { req?: string }).req;
    return req !== undefined && failed.has(req);
  });
}
