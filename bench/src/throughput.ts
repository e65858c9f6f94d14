import { groupRssBytes, groupsCpuSeconds, machineTicks, selfCpuSeconds, ticksPerSecond } from './proc-stats.js';
import { median } from './stats.js';
import type { Target, TargetId } from './target.js';
import type { Workload } from './workloads.js';
import { runWrk, wrkArgs, type WrkResult } from './wrk.js';

export interface ThroughputPlan {
  warmupS: number;
  durationS: number;
  rounds: number;
}

/** Where the CPU went during a round (or the median over rounds), in cores: 1.0 = one core busy. */
export interface CpuShares {
  /** The target's processes (the pod itself for direct). */
  targetCores: number;
  /** All four pods. */
  podCores: number;
  wrkCores: number;
  /** Everything else on the machine (the bench itself, other programs). */
  otherCores: number;
  /** Share of the whole machine that was busy (wrk, target, pods, everything), 0-1. */
  machineBusy: number;
  /** Share of the machine's time the hypervisor gave to other guests, 0-1. */
  steal: number;
}

export interface RoundResult extends WrkResult, CpuShares {
  /** RSS of the target's process group right after the round; null for direct. */
  rssBytes: number | null;
}

export interface ThroughputResult extends CpuShares {
  target: TargetId;
  workload: Workload['id'];
  /** The exact wrk command line of each measured round (the URL differs by target only). */
  command: string;
  rounds: RoundResult[];
  warmupErrors: number;
  /** Medians over the rounds. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** (max - min) / median of the rounds' req/s: how steady the machine was. */
  spread: number;
  /** Summed over the measured rounds: non-2xx answers (wrk counts ≥ 400) and socket errors. */
  errors: number;
}

export interface ThroughputContext {
  targets: readonly Target[];
  workloads: readonly Workload[];
  plan: ThroughputPlan;
  scriptFor: (workload: Workload) => string;
  /** Process groups of the four pods. */
  podGroups: readonly number[];
  log: (line: string) => void;
}

/**
 * Per workload: a warm-up of every target, then rounds interleaved across targets (A B C A B C …)
 * so slow drift of the machine (thermal, noisy neighbours) spreads over all of them; medians are
 * reported.
 */
export async function runThroughput(ctx: ThroughputContext): Promise<ThroughputResult[]> {
  const results: ThroughputResult[] = [];
  for (const workload of ctx.workloads) {
    const script = ctx.scriptFor(workload);
    const byTarget = new Map<TargetId, { rounds: RoundResult[]; warmupErrors: number; command: string }>();
    for (const target of ctx.targets) {
      const warm = await runWrk(wrkArgs(target.url, workload, ctx.plan.warmupS, script), ctx.plan.warmupS);
      byTarget.set(target.id, {
        rounds: [],
        warmupErrors: warm.errors.total,
        command: ['wrk', ...wrkArgs(target.url, workload, ctx.plan.durationS, script)].join(' '),
      });
    }
    for (let round = 1; round <= ctx.plan.rounds; round++) {
      for (const target of ctx.targets) {
        const groups = target.child === null ? [] : [target.child.pgid];
        const r = await measuredRun(target, workload, script, ctx.plan.durationS, groups, ctx.podGroups);
        byTarget.get(target.id)?.rounds.push(r);
        ctx.log(
          `  ${workload.id.padEnd(8)} round ${round}/${ctx.plan.rounds} ${target.id.padEnd(11)} ${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.latencyMs.p50.toFixed(2)} ms  p99 ${r.latencyMs.p99.toFixed(2)} ms  errors ${r.errors.total}  CPU target ${r.targetCores.toFixed(2)} pods ${r.podCores.toFixed(2)} wrk ${r.wrkCores.toFixed(2)} other ${r.otherCores.toFixed(2)}  machine ${(r.machineBusy * 100).toFixed(0)} %${r.steal >= 0.01 ? ` (steal ${(r.steal * 100).toFixed(0)} %)` : ''}`,
        );
      }
    }
    for (const target of ctx.targets) {
      const t = byTarget.get(target.id);
      if (t === undefined) continue;
      results.push({
        target: target.id,
        workload: workload.id,
        command: t.command,
        rounds: t.rounds,
        warmupErrors: t.warmupErrors,
        rps: median(t.rounds.map((r) => r.rps)),
        p50Ms: median(t.rounds.map((r) => r.latencyMs.p50)),
        p99Ms: median(t.rounds.map((r) => r.latencyMs.p99)),
        targetCores: median(t.rounds.map((r) => r.targetCores)),
        podCores: median(t.rounds.map((r) => r.podCores)),
        wrkCores: median(t.rounds.map((r) => r.wrkCores)),
        otherCores: median(t.rounds.map((r) => r.otherCores)),
        machineBusy: median(t.rounds.map((r) => r.machineBusy)),
        steal: median(t.rounds.map((r) => r.steal)),
        spread: (Math.max(...t.rounds.map((r) => r.rps)) - Math.min(...t.rounds.map((r) => r.rps))) / median(t.rounds.map((r) => r.rps)),
        errors: t.rounds.reduce((sum, r) => sum + r.errors.total, 0),
      });
    }
  }
  return results;
}

async function measuredRun(
  target: Target,
  workload: Workload,
  script: string,
  durationS: number,
  groups: number[],
  podGroups: readonly number[],
): Promise<RoundResult> {
  const cpu0 = groupsCpuSeconds(groups);
  const pods0 = groupsCpuSeconds(podGroups);
  const m0 = machineTicks();
  const self0 = selfCpuSeconds();
  const t0 = performance.now();
  const r = await runWrk(wrkArgs(target.url, workload, durationS, script), durationS);
  const elapsedS = (performance.now() - t0) / 1000;
  const m1 = machineTicks();
  const self1 = selfCpuSeconds();
  const podCores = (groupsCpuSeconds(podGroups) - pods0) / elapsedS;
  // Direct: the target is one of the pods, so its cores are counted among the pods'.
  const targetCores = groups.length === 0 ? 0 : (groupsCpuSeconds(groups) - cpu0) / elapsedS;
  // wrk has exited and been reaped by now, so its CPU time is in our children's.
  const wrkCores = (self1.reapedChildren - self0.reapedChildren) / elapsedS;
  const ticks = m1.total - m0.total;
  const machineBusy = ticks > 0 ? (m1.busy - m0.busy) / ticks : 0;
  const steal = ticks > 0 ? (m1.steal - m0.steal) / ticks : 0;
  const machineCores = (machineBusy * ticks) / ticksPerSecond() / elapsedS;
  const otherCores = Math.max(0, machineCores - targetCores - podCores - wrkCores);
  const rssBytes = groups.length === 0 ? null : groups.reduce((sum, g) => sum + groupRssBytes(g).bytes, 0);
  return { ...r, targetCores: groups.length === 0 ? podCores : targetCores, podCores, wrkCores, otherCores, machineBusy, steal, rssBytes };
}
