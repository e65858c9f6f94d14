import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logTail, type Children } from './child-processes.js';
import { distFile } from './paths.js';
import { median } from './stats.js';
import type { Target } from './target.js';

export interface OpenLoopRun {
  target: Target['id'];
  ratePerSecond: number;
  achievedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Most requests ever waiting for a free connection: above 0, the client's 64 connections were all busy. */
  maxQueued: number;
}

/** What open-loop-client.js prints. */
interface OpenLoopReport {
  achievedPerSecond: number;
  errors: number;
  maxQueued: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
}

export interface AddedLatency {
  ratePerSecond: number;
  durationS: number;
  /** How the rate was chosen. */
  basis: string;
  runs: OpenLoopRun[];
  direct: { p50Ms: number; p99Ms: number };
  podgate: { p50Ms: number; p99Ms: number };
  /** podgate minus direct, medians over the rounds. */
  addedP50Ms: number;
  addedP99Ms: number;
  errors: number;
}

/**
 * podgate's added latency at a fixed rate (half its measured maximum), not at saturation: a
 * constant-rate client (open-loop-client.ts; wrk2 is not in Debian) against the direct pod and
 * podgate 1w, in turns, 1 s of warm-up each.
 */
export async function measureAddedLatency(opts: {
  children: Children;
  dir: string;
  direct: Target;
  podgate: Target;
  ratePerSecond: number;
  basis: string;
  durationS: number;
  rounds: number;
  log: (line: string) => void;
}): Promise<AddedLatency> {
  const runs: OpenLoopRun[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    for (const target of [opts.direct, opts.podgate]) {
      const run = await openLoop(opts.children, opts.dir, target, opts.ratePerSecond, opts.durationS, `${target.id}-${round}`);
      runs.push(run);
      opts.log(
        `  latency round ${round}/${opts.rounds} ${target.id.padEnd(11)} at ${run.ratePerSecond} req/s (got ${run.achievedPerSecond}, queued ≤ ${run.maxQueued})  p50 ${run.p50Ms.toFixed(3)} ms  p99 ${run.p99Ms.toFixed(3)} ms  errors ${run.errors}`,
      );
    }
  }
  const of = (id: Target['id']): OpenLoopRun[] => runs.filter((r) => r.target === id);
  const direct = { p50Ms: median(of(opts.direct.id).map((r) => r.p50Ms)), p99Ms: median(of(opts.direct.id).map((r) => r.p99Ms)) };
  const podgate = { p50Ms: median(of(opts.podgate.id).map((r) => r.p50Ms)), p99Ms: median(of(opts.podgate.id).map((r) => r.p99Ms)) };
  return {
    ratePerSecond: opts.ratePerSecond,
    durationS: opts.durationS,
    basis: opts.basis,
    runs,
    direct,
    podgate,
    addedP50Ms: podgate.p50Ms - direct.p50Ms,
    addedP99Ms: podgate.p99Ms - direct.p99Ms,
    errors: runs.reduce((s, r) => s + r.errors, 0),
  };
}

async function openLoop(children: Children, dir: string, target: Target, rate: number, durationS: number, tag: string): Promise<OpenLoopRun> {
  const logFile = join(dir, `open-loop-${tag}.log`);
  const child = children.spawn({
    name: `open-loop ${tag}`,
    command: process.execPath,
    args: [distFile('open-loop-client.js'), '--url', target.url, '--rate', String(rate), '--duration-ms', String(durationS * 1000), '--warmup-ms', '1000'],
    logFile,
    ipc: true,
  });
  // Bounded: the client stops sending after durationS; every request has a 5 s timeout.
  const timer = setTimeout(() => void children.stop(child), (durationS + 15) * 1000);
  await child.exited;
  clearTimeout(timer);
  const line = readFileSync(logFile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('OPEN_LOOP_RESULT '));
  if (line === undefined) throw new Error(`open-loop client for ${target.id} printed no result:\n${logTail(logFile)}`);
  const report = JSON.parse(line.slice('OPEN_LOOP_RESULT '.length)) as OpenLoopReport;
  return {
    target: target.id,
    ratePerSecond: rate,
    achievedPerSecond: report.achievedPerSecond,
    p50Ms: report.latencyMs.p50,
    p99Ms: report.latencyMs.p99,
    errors: report.errors,
    maxQueued: report.maxQueued,
  };
}
