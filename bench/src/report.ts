import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddedLatency } from './added-latency.js';
import type { IdleRss } from './idle-rss.js';
import type { IdleUpload } from './idle-upload.js';
import type { MachineInfo, Versions } from './machine-info.js';
import type { PickBench } from './pick-bench.js';
import type { Target, TargetId } from './target.js';
import type { ThroughputResult } from './throughput.js';
import type { Workload } from './workloads.js';
import { cpuPerRequestUs } from './findings.js';
import { markdown, pad, type Row } from './text-table.js';

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  durationS: number;
  plan: { quick: boolean; warmupS: number; durationS: number; rounds: number };
  machine: MachineInfo;
  versions: Versions;
  targets: Array<Pick<Target, 'id' | 'label' | 'url' | 'setup' | 'version'>>;
  skipped: Array<{ id: TargetId; reason: string }>;
  workloads: Workload[];
  /** Every wrk command line run for a measured round (warm-ups use the same with a shorter -d). */
  wrkCommands: string[];
  /** The Lua script of each workload (the -s file of the commands, in a temp directory then). */
  wrkScripts: Record<string, string>;
  throughput: ThroughputResult[];
  rssAfterLoad: Array<{ target: TargetId; bytes: number }>;
  pick: PickBench | null;
  addedLatency: AddedLatency | null;
  idleUpload: IdleUpload | null;
  idleRss: IdleRss | null;
  findings: string[];
}

const fixed = (n: number, d: number): string => (Number.isFinite(n) ? n.toFixed(d) : '–');
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function throughputRows(report: BenchReport, workload: Workload): Row[] {
  const results = report.throughput.filter((r) => r.workload === workload.id);
  const direct = results.find((r) => r.target === 'direct')?.rps ?? Number.NaN;
  const pg1 = results.find((r) => r.target === 'podgate-1w')?.rps ?? Number.NaN;
  const rows: Row[] = [
    ['target', 'req/s', '× direct', '× podgate-1w', 'p50 ms', 'p99 ms', 'errors', 'spread', 'CPU µs/req', 'CPU target/pods/wrk/other', 'machine'],
  ];
  for (const r of results) {
    rows.push([
      r.target,
      fixed(r.rps, 0),
      fixed(r.rps / direct, 2),
      fixed(r.rps / pg1, 2),
      fixed(r.p50Ms, 2),
      fixed(r.p99Ms, 2),
      String(r.errors),
      `${fixed(r.spread * 100, 0)} %`,
      fixed(cpuPerRequestUs(r), 0),
      [r.targetCores, r.podCores, r.wrkCores, r.otherCores].map((c) => fixed(c, 2)).join(' / '),
      `${fixed(r.machineBusy * 100, 0)} %`,
    ]);
  }
  return rows;
}

function workloadTitle(report: BenchReport, w: Workload): string {
  return `${w.label}: wrk -t1 -c${w.connections}, ${report.plan.rounds} interleaved rounds of ${report.plan.durationS} s after a ${report.plan.warmupS} s warm-up, medians`;
}

function latencyRows(a: AddedLatency): Row[] {
  return [
    ['', 'p50 ms', 'p99 ms'],
    ['direct', fixed(a.direct.p50Ms, 3), fixed(a.direct.p99Ms, 3)],
    ['podgate-1w', fixed(a.podgate.p50Ms, 3), fixed(a.podgate.p99Ms, 3)],
    ['added by podgate', fixed(a.addedP50Ms, 3), fixed(a.addedP99Ms, 3)],
  ];
}

function idleLines(i: IdleRss): string[] {
  return [
    `${i.opened} of ${i.requested} idle keep-alive connections open (${i.stillOpen} still open when measured; opened in ${i.openMs} ms${Object.keys(i.openErrors).length > 0 ? `; errors ${JSON.stringify(i.openErrors)}` : ''})`,
    `podgate 1w RSS: ${mib(i.rssBeforeBytes)} before, ${mib(i.rssAfterBytes)} with them: ${fixed(i.perConnectionBytes / 1024, 1)} KiB a connection`,
    `open files limit: soft ${i.fdLimit.soft}, hard ${i.fdLimit.hard} (${i.fdLimit.note})`,
  ];
}

/** The human-readable summary printed at the end of a run. */
export function formatText(report: BenchReport): string {
  const out: string[] = [];
  out.push(`podgate bench, ${report.startedAt}, ${report.durationS.toFixed(0)} s`);
  out.push(`machine: ${report.machine.cpuModel} × ${report.machine.cores}, ${report.machine.kernel}, ${report.machine.memoryGiB} GiB`);
  out.push(
    `versions: node ${report.versions.node}, podgate ${report.versions.podgate}, ${report.versions.wrk}, ${report.versions.nginx ?? 'nginx not installed'}, caddy ${report.versions.caddy ?? 'not installed'}, fastify ${report.versions.fastify} + @fastify/http-proxy ${report.versions.fastifyHttpProxy}, http-proxy ${report.versions.httpProxy}`,
  );
  for (const s of report.skipped) out.push(`skipped ${s.id}: ${s.reason}`);
  for (const w of report.workloads) {
    out.push('', workloadTitle(report, w), pad(throughputRows(report, w), 1));
  }
  if (report.addedLatency !== null) {
    const a = report.addedLatency;
    out.push('', `added latency at ${a.ratePerSecond} req/s GET, open loop (${a.basis}), ${a.durationS} s a run, medians:`, pad(latencyRows(a), 1));
  }
  if (report.idleUpload !== null) out.push('', idleUploadLine(report.idleUpload));
  if (report.idleRss !== null) out.push('', 'idle connections:', ...idleLines(report.idleRss));
  if (report.rssAfterLoad.length > 0) out.push('', `RSS after the load runs: ${report.rssAfterLoad.map((r) => `${r.target} ${mib(r.bytes)}`).join(', ')}`);
  if (report.pick !== null) out.push('', `balancer pick cost (${report.pick.command}):`, report.pick.output);
  if (report.findings.length > 0) out.push('', 'findings:', ...report.findings.map((f) => `- ${f}`));
  return out.join('\n');
}

export function formatMarkdown(report: BenchReport): string {
  const out: string[] = [];
  out.push(`# podgate bench, ${report.startedAt}`, '');
  out.push(`Run took ${report.durationS.toFixed(0)} s${report.plan.quick ? ' (--quick)' : ''}.`, '');
  out.push('## Machine and versions', '');
  out.push(
    `- CPU: ${report.machine.cpuModel} × ${report.machine.cores} cores; ${report.machine.memoryGiB} GiB; load average at start ${report.machine.loadAverage1m.toFixed(2)}`,
  );
  out.push(`- Kernel: ${report.machine.kernel}`);
  const v = report.versions;
  out.push(
    `- node ${v.node}; podgate ${v.podgate}; ${v.wrk}; ${v.nginx ?? 'nginx not installed'}; caddy ${v.caddy ?? 'not installed'}; fastify ${v.fastify}; @fastify/http-proxy ${v.fastifyHttpProxy}; http-proxy ${v.httpProxy}`,
    '',
  );
  out.push('## Targets', '');
  for (const t of report.targets) out.push(`- **${t.id}** (${t.url}): ${t.setup}`);
  for (const s of report.skipped) out.push(`- ~~${s.id}~~ skipped: ${s.reason}`);
  out.push('', '## Throughput', '');
  for (const w of report.workloads) out.push(`### ${workloadTitle(report, w)}`, '', markdown(throughputRows(report, w), 1), '');
  out.push(
    'Errors are non-2xx answers (wrk counts status ≥ 400) plus socket errors (connect, read, write, timeout), summed over the measured rounds. ' +
      "Spread is (max − min) / median of the rounds' req/s. CPU µs/req is the target's CPU time per request served. CPU is in cores (1.00 = one core busy), medians over the rounds: the target's process group " +
      '(for direct, the pod), the four pods, wrk, and everything else on the machine; machine is the share of all cores busy.',
    '',
  );
  if (report.addedLatency !== null) {
    const a = report.addedLatency;
    out.push(
      '## Added latency',
      '',
      `GET at a constant ${a.ratePerSecond} req/s (${a.basis}), ${a.durationS} s a run, direct and podgate in turns, medians; ${a.errors} errors.`,
      '',
      markdown(latencyRows(a), 1),
      '',
    );
  }
  if (report.idleUpload !== null) out.push('## One upload on an idle proxy', '', idleUploadLine(report.idleUpload), '');
  if (report.idleRss !== null) out.push('## Idle keep-alive connections', '', ...idleLines(report.idleRss).map((l) => `- ${l}`), '');
  if (report.rssAfterLoad.length > 0) out.push('## RSS after the load runs', '', ...report.rssAfterLoad.map((r) => `- ${r.target}: ${mib(r.bytes)}`), '');
  if (report.pick !== null) out.push('## Balancer pick cost', '', `\`${report.pick.command}\``, '', '```', report.pick.output, '```', '');
  if (report.findings.length > 0) out.push('## Findings', '', ...report.findings.map((f) => `- ${f}`), '');
  out.push('## wrk command lines', '', '```', ...report.wrkCommands, '```', '');
  for (const [id, script] of Object.entries(report.wrkScripts)) out.push(`\`${id}.lua\`:`, '', '```lua', script.trimEnd(), '```', '');
  return out.join('\n');
}

function idleUploadLine(u: IdleUpload): string {
  const ms = (n: number): string => fixed(n, 3);
  return (
    `one POST of ${u.bodyBytes} B at a time on one keep-alive connection (${u.rounds} rounds of ${u.requestsPerRound}, medians, ${u.errors} errors): ` +
    `direct p50 ${ms(u.direct.p50Ms)} ms p90 ${ms(u.direct.p90Ms)} ms; podgate 1w p50 ${ms(u.podgate.p50Ms)} ms p90 ${ms(u.podgate.p90Ms)} ms; ` +
    `added by podgate p50 ${ms(u.addedP50Ms)} ms, p90 ${ms(u.addedP90Ms)} ms`
  );
}

/** Writes <dir>/<stamp>.json and .md; returns their paths. */
export function writeReport(dir: string, stamp: string, report: BenchReport): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${stamp}.json`);
  const md = join(dir, `${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, formatMarkdown(report));
  return { json, md };
}
