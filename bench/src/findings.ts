import type { ThroughputResult } from './throughput.js';
import type { TargetId } from './target.js';
import type { Workload } from './workloads.js';

// Direct to one pod should beat every proxy by this much, or the pods (not the proxies) are
// what the run measured.
const CEILING_MARGIN = 1.3;
// A single-threaded target this busy is the bottleneck of its run.
const SATURATED_CORES = 0.9;
// Rounds of one target further apart than this: the machine was not steady.
const NOISY_SPREAD = 0.25;
// Other programs using this much CPU during a run compete with the bench.
const BUSY_OTHERS = 0.2;
// The whole machine this busy: wrk, pods and proxy compete for cores and every figure is lower.
const MACHINE_SATURATED = 0.95;

/** Plain-sentence observations the report lists under "findings". */
export function findings(results: readonly ThroughputResult[], workloads: readonly Workload[], cores: number): string[] {
  const out: string[] = [];
  for (const w of workloads) {
    const rs = results.filter((r) => r.workload === w.id);
    const get = (id: TargetId): ThroughputResult | undefined => rs.find((r) => r.target === id);
    const direct = get('direct');
    const proxies = rs.filter((r) => r.target !== 'direct');
    if (direct !== undefined && proxies.length > 0) {
      const fastest = proxies.reduce((a, b) => (b.rps > a.rps ? b : a));
      const ratio = direct.rps / fastest.rps;
      out.push(
        ratio >= CEILING_MARGIN
          ? `${w.id}: direct to one pod (${direct.rps.toFixed(0)} req/s) is ${ratio.toFixed(2)}× the fastest proxy (${fastest.target}): the pods are not the bottleneck.`
          : `${w.id}: direct to one pod (${direct.rps.toFixed(0)} req/s) is only ${ratio.toFixed(2)}× the fastest proxy (${fastest.target}): the pods or the machine limit this workload, not only the proxies.`,
      );
    }
    const pg1 = get('podgate-1w');
    const growth = pg1 === undefined ? null : rssGrowth(pg1);
    if (growth !== null) out.push(`${w.id}: podgate 1w ${growth}`);
    if (pg1 !== undefined) {
      const versus = (['fastify', 'http-proxy', 'caddy'] as const)
        .map((id) => get(id))
        .filter((r): r is ThroughputResult => r !== undefined)
        .map((r) => `${(pg1.rps / r.rps).toFixed(2)}× ${r.target}${pg1.rps >= 1.5 * r.rps ? ' (≥ 1.5×)' : ' (< 1.5×)'}`);
      if (versus.length > 0) out.push(`${w.id}: podgate 1w is ${versus.join(', ')}.`);
      // On a busy machine req/s also says how much CPU the others left the target; the CPU a request
      // it used says what its code costs.
      const others = (['fastify', 'http-proxy', 'caddy', 'nginx'] as const).map((id) => get(id)).filter((r): r is ThroughputResult => r !== undefined);
      if (others.length > 0) {
        const us = cpuPerRequestUs(pg1);
        out.push(
          `${w.id}: CPU a request, podgate 1w ${us.toFixed(0)} µs; ` +
            others.map((r) => `${r.target} ${cpuPerRequestUs(r).toFixed(0)} µs (${(cpuPerRequestUs(r) / us).toFixed(2)}×)`).join(', ') +
            '.',
        );
      }
      const pg2 = get('podgate-2w');
      if (pg2 !== undefined) {
        // With wrk and the pods on the same cores, 2 workers get what the others leave: req/s per
        // core the target used says whether podgate itself scales, whatever the machine gave it.
        const perCore = (r: ThroughputResult): number => r.rps / Math.max(0.01, r.targetCores);
        out.push(
          `${w.id}: podgate 2w is ${(pg2.rps / pg1.rps).toFixed(2)}× podgate 1w on ${pg2.targetCores.toFixed(2)} cores against ${pg1.targetCores.toFixed(2)}; ` +
            `per core of podgate ${perCore(pg2).toFixed(0)} req/s against ${perCore(pg1).toFixed(0)} (${(perCore(pg2) / perCore(pg1)).toFixed(2)}×).`,
        );
      }
      const nginx = get('nginx');
      if (nginx !== undefined)
        out.push(
          `${w.id}: nginx is ${(nginx.rps / pg1.rps).toFixed(2)}× podgate 1w${pg2 !== undefined ? ` and ${(nginx.rps / pg2.rps).toFixed(2)}× podgate 2w` : ''}.`,
        );
    }
    for (const r of rs) {
      if (r.errors > 0 || r.warmupErrors > 0) out.push(`${w.id}: ${r.target} had ${r.errors} errors in measured rounds and ${r.warmupErrors} in its warm-up.`);
    }
    const singleThreaded = rs.filter((r) => r.target !== 'caddy' && r.target !== 'podgate-2w' && r.target !== 'direct' && r.targetCores >= SATURATED_CORES);
    if (singleThreaded.length > 0)
      out.push(`${w.id}: at a full core (single-threaded, so CPU-bound): ${singleThreaded.map((r) => `${r.target} ${r.targetCores.toFixed(2)}`).join(', ')}.`);
    const noisy = rs.filter((r) => r.spread >= NOISY_SPREAD);
    if (noisy.length > 0)
      out.push(
        `${w.id}: rounds differ by ≥ ${NOISY_SPREAD * 100} % for ${noisy.map((r) => `${r.target} (${(r.spread * 100).toFixed(0)} %)`).join(', ')}: a noisy machine; compare medians only.`,
      );
    const others = rs.filter((r) => r.otherCores >= BUSY_OTHERS || r.steal >= 0.05);
    if (others.length > 0)
      out.push(
        `${w.id}: other programs or the hypervisor took CPU during ${others.map((r) => `${r.target} (other ${r.otherCores.toFixed(2)} cores, steal ${(r.steal * 100).toFixed(0)} %)`).join(', ')}.`,
      );
    const busy = rs.filter((r) => r.machineBusy >= MACHINE_SATURATED);
    if (busy.length > 0)
      out.push(
        `${w.id}: all ${cores} cores busy during ${busy.map((r) => r.target).join(', ')}: wrk, the pods and the target share them, so those figures are machine-bound.`,
      );
  }
  return out;
}

/**
 * RSS after each measured round (the warm-up has grown the heap and the pools to their working
 * size) and the change from the first to the last over the requests in between. V8 resizes its
 * heap by tens of MiB either way from round to round, so a leak is growth in every round, and
 * of the same order for each.
 */
export function rssGrowth(r: ThroughputResult): string | null {
  const rss = r.rounds.map((round) => round.rssBytes);
  const first = rss[0];
  const last = rss.at(-1);
  if (rss.length < 2 || first === undefined || first === null || last === undefined || last === null) return null;
  const requests = r.rounds.slice(1).reduce((sum, round) => sum + round.requests, 0);
  const grown = last - first;
  const mib = (b: number | null): string => ((b ?? 0) / 1024 / 1024).toFixed(1);
  return (
    `RSS after each round ${rss.map(mib).join(', ')} MiB: ${grown >= 0 ? '+' : '−'}${mib(Math.abs(grown))} MiB from the first to the last ` +
    `over ${requests} requests (${(grown / Math.max(1, requests)).toFixed(0)} B a request; the heap's size moves by tens of MiB between rounds).`
  );
}

/** µs of the target's CPU per request served (its cores over its req/s). */
export function cpuPerRequestUs(r: ThroughputResult): number {
  return (r.targetCores * 1e6) / Math.max(1, r.rps);
}
