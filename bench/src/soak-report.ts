import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from './machine-info.js';
import type { ProbeSample } from './soak-probe.js';
import { mib, type SoakReport } from './soak.js';
import { markdown, pad, type Row } from './text-table.js';

export interface SoakFile {
  machine: MachineInfo;
  versions: { node: string; podgate: string };
  soak: SoakReport;
}

const counts = (c: Record<string, number>): string =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}=${n}`)
    .join(' ') || 'none';

const signed = (n: number, unit = ''): string => `${n >= 0 ? '+' : ''}${n}${unit}`;
const deltaMiB = (a: number, b: number): string => `${signed(Math.round(((b - a) / 2 ** 20) * 10) / 10)} MiB`;

function loadRows(s: SoakReport): Row[] {
  const rows: Row[] = [['clients', 'rate/s', 'measured req/s', 'requests', 'ok', 'errors', 'errors by kind', 'p50 ms', 'p99 ms', 'max ms']];
  for (const l of s.loads) {
    const r = l.report;
    rows.push([
      l.label,
      String(l.ratePerSecond),
      l.measuredRps.toFixed(1),
      String(r.total),
      String(r.ok),
      String(r.errors),
      counts(r.byError),
      r.latencyMs.p50.toFixed(1),
      r.latencyMs.p99.toFixed(1),
      r.latencyMs.max.toFixed(0),
    ]);
  }
  return rows;
}

function processRows(s: SoakReport): Row[] {
  const row = (what: string, f: (p: ProbeSample) => string, d: (a: ProbeSample, b: ProbeSample) => string): Row => [
    what,
    f(s.idleBaseline),
    f(s.start),
    f(s.end),
    d(s.start, s.end),
    f(s.idleEnd),
    d(s.idleBaseline, s.idleEnd),
  ];
  return [
    ['podgate process', 'idle, before traffic', 'start (after warm-up)', 'end', 'end − start', 'idle, after traffic', 'idle after − before'],
    row(
      'RSS (after a full GC)',
      (p) => mib(p.rssBytes),
      (a, b) => deltaMiB(a.rssBytes, b.rssBytes),
    ),
    row(
      'V8 heap used (after a full GC)',
      (p) => mib(p.heapUsedBytes),
      (a, b) => deltaMiB(a.heapUsedBytes, b.heapUsedBytes),
    ),
    row(
      'V8 heap total',
      (p) => mib(p.heapTotalBytes),
      (a, b) => deltaMiB(a.heapTotalBytes, b.heapTotalBytes),
    ),
    row(
      'external + array buffers',
      (p) => mib(p.externalBytes),
      (a, b) => deltaMiB(a.externalBytes, b.externalBytes),
    ),
    row(
      'open fds (/proc/<pid>/fd)',
      (p) => String(p.fds),
      (a, b) => signed(b.fds - a.fds),
    ),
    row(
      '  of which not sockets',
      (p) => String(p.fds - p.sockets.socketFds),
      (a, b) => signed(b.fds - b.sockets.socketFds - (a.fds - a.sockets.socketFds)),
    ),
    row(
      '  TCP: client connections',
      (p) => String(p.sockets.byRole.client ?? 0),
      (a, b) => signed((b.sockets.byRole.client ?? 0) - (a.sockets.byRole.client ?? 0)),
    ),
    row(
      '  TCP: upstream (to pods)',
      (p) => String(p.sockets.byRole.upstream ?? 0),
      (a, b) => signed((b.sockets.byRole.upstream ?? 0) - (a.sockets.byRole.upstream ?? 0)),
    ),
    row(
      '  TCP: admin API and feed',
      (p) => String(p.sockets.byRole.admin ?? 0),
      (a, b) => signed((b.sockets.byRole.admin ?? 0) - (a.sockets.byRole.admin ?? 0)),
    ),
    row(
      '  TCP: CLOSE_WAIT',
      (p) => String(p.sockets.byState.CLOSE_WAIT ?? 0),
      (a, b) => signed((b.sockets.byState.CLOSE_WAIT ?? 0) - (a.sockets.byState.CLOSE_WAIT ?? 0)),
    ),
    row(
      'active handles',
      (p) => String(Object.values(p.resources).reduce((x, y) => x + y, 0)),
      (a, b) => signed(Object.values(b.resources).reduce((x, y) => x + y, 0) - Object.values(a.resources).reduce((x, y) => x + y, 0)),
    ),
  ];
}

function seriesRows(s: SoakReport, every: number): Row[] {
  const rows: Row[] = [
    [
      't s (since the load began)',
      '',
      'RSS',
      'heap used (no GC)',
      'fds',
      'client conns',
      'upstream conns',
      'CLOSE_WAIT',
      'loop delay p99 ms',
      'max ms',
      'bench loop delay p99 ms',
    ],
  ];
  for (const p of s.series) {
    if (p.label === 'sample' && p.t % every !== 0) continue;
    rows.push([
      String(p.t),
      p.label === 'sample' ? '' : p.label,
      mib(p.rssBytes),
      mib(p.heapUsedBytes),
      String(p.fds),
      String(p.clientSockets),
      String(p.upstreamSockets),
      String(p.closeWait),
      p.loopP99Ms.toFixed(1),
      p.loopMaxMs.toFixed(1),
      p.benchLoopP99Ms.toFixed(1),
    ]);
  }
  return rows;
}

function rolloutRows(s: SoakReport): Row[] {
  const rows: Row[] = [['#', 'at s (measured)', 'modes (pod 1-4)', 'took s', 'steps', 'result']];
  for (const r of s.rollouts) rows.push([String(r.index), r.atS.toFixed(1), r.modes.join(' '), (r.tookMs / 1000).toFixed(1), String(r.steps), r.error ?? 'ok']);
  return rows;
}

function feedLine(s: SoakReport): string[] {
  const f = s.feed;
  const range = (pick: (c: SoakReport['feed']['perClient'][number]) => number): string => {
    const v = f.perClient.map(pick);
    return v.length === 0 ? '-' : `${Math.min(...v)}-${Math.max(...v)}`;
  };
  const closes = f.perClient.flatMap((c) => c.unexpectedCloses);
  const errors = f.perClient.flatMap((c) => c.errors);
  return [
    `${f.clients} clients; per client: events ${range((c) => c.byType.event ?? 0)} (distinct ids ${range((c) => c.eventIds)}), changes ${range((c) => c.byType.changes ?? 0)}, heartbeats ${range((c) => c.byType.heartbeat ?? 0)}, snapshots ${range((c) => c.byType.snapshot ?? 0)}, ${range((c) => Math.round(c.bytes / 1024))} KiB`,
    `unexpected closes ${closes.length}${closes.length === 0 ? '' : ` (${[...new Set(closes)].join(', ')})`}, errors ${errors.length}${errors.length === 0 ? '' : ` (${[...new Set(errors)].slice(0, 5).join('; ')})`}, malformed ${f.perClient.reduce((n, c) => n + c.malformed, 0)}, opens ${f.perClient.reduce((n, c) => n + c.opens, 0)}`,
  ];
}

function sections(file: SoakFile): Array<{ title: string; lines: string[]; table?: { rows: Row[]; rightFrom: number } }> {
  const s = file.soak;
  const m = file.machine;
  const out: Array<{ title: string; lines: string[]; table?: { rows: Row[]; rightFrom: number } }> = [];
  out.push({
    title: '',
    lines: [
      `command: ${s.command}`,
      `machine: ${m.cpuModel} × ${m.cores}, ${m.kernel}, ${m.memoryGiB} GiB, load average at start ${m.loadAverage1m.toFixed(2)}; node ${file.versions.node}; podgate ${file.versions.podgate}`,
      `plan: ${s.plan.warmupS} s warm-up, then ${s.plan.durationS} s measured${s.plan.quick ? ' (--quick)' : ''}; ${s.startedAt} → ${s.finishedAt}`,
      ...s.setup,
    ],
  });
  out.push({ title: 'Verdict', lines: [s.verdict.ok ? 'PASS: no client errors, podgate flat' : 'FAIL: see the lines marked FAIL', ...s.verdict.lines] });
  const totalRps = s.loads.reduce((n, l) => n + l.measuredRps, 0);
  out.push({
    title: `Well-behaved clients (errors must be 0): ${s.wellBehavedErrors} errors; ${totalRps.toFixed(0)} req/s over the measured period (latency over the whole run, warm-up included)`,
    lines: [
      ...(s.wellBehavedErrors > 0
        ? [`*** ${s.wellBehavedErrors} ERRORS of well-behaved clients: ${s.loads.map((l) => `${l.id}: ${counts(l.report.byError)}`).join('; ')} ***`]
        : []),
      ...s.errorSamples.map(
        (e) =>
          `  error at ${e.t.toFixed(1)} s (since the load began) ${e.kind}: ${e.error} after ${e.ms} ms${e.duringRollout === null ? '' : `, during rolling update ${e.duringRollout}`}`,
      ),
      ...s.loads.filter((l) => (l.report.dropped ?? 0) > 0).map((l) => `${l.id}: ${l.report.dropped} sends dropped (over 5000 outstanding)`),
    ],
    table: { rows: loadRows(s), rightFrom: 1 },
  });
  out.push({ title: `Live-feed clients (must see no unexpected close): ${s.feed.problems} problems`, lines: feedLine(s) });
  const o = s.operator;
  out.push({
    title: `Admin API, operator and dashboard reads (errors must be 0): ${o.errors} errors`,
    lines: [
      `${o.actions} peer actions; answers: ${counts(o.byAction)}`,
      `peer state in the answer: ${counts(o.states)}; ${o.goneRaces} answered 404 because a rolling update had just removed the pod (a race, not an error)`,
      ...o.firstErrors.map((e) => `  ${e}`),
    ],
  });
  const sl = s.slow;
  const d = s.disconnect;
  out.push({
    title: 'Misbehaving clients (their own failures are expected; not counted as errors above)',
    lines: [
      `slow senders: ${sl.started} requests, ${sl.ok} answered 2xx; statuses ${counts(sl.byStatus)}; failures ${counts(sl.byError)}; p50 ${(sl.p50Ms / 1000).toFixed(1)} s, max ${(sl.maxMs / 1000).toFixed(1)} s each`,
      `disconnecting mid-body: ${d.started} clients, ${d.disconnected} left as planned (FIN ${d.byFin}, RST ${d.byRst}); answered before they left: ${counts(d.answeredEarly)}; connection failed first: ${counts(d.byError)}`,
    ],
  });
  out.push({
    title: 'podgate process: memory, fds (start and end under load, idle before and after)',
    lines: [
      `pid ${s.podgatePid}; CPU ${s.podgateCores} cores over the measured period`,
      `event-loop delay over the measured ${s.plan.durationS} s (monitorEventLoopDelay in podgate, less its ${s.loopMeasured.resolutionMs} ms resolution): p50 ${s.loopMeasured.p50Ms} ms, p99 ${s.loopMeasured.p99Ms} ms, max ${s.loopMeasured.maxMs} ms, mean ${s.loopMeasured.meanMs} ms (${s.loopMeasured.count} samples; the histogram's own p99 ${s.loopMeasured.rawP99Ms} ms); the bench process's own p99 ${s.benchLoopP99Ms} ms (load generator, pods, DNS)`,
      `active handles at start: ${counts(s.start.resources)}; at end: ${counts(s.end.resources)}; idle after: ${counts(s.idleEnd.resources)}`,
      `upstream connections at the end by pod: ${counts(s.end.sockets.upstreamByPeer)}`,
      `podgate counted (podgate_requests_total by status): ${counts(s.podgateRequestsByStatus)}`,
      `podgate's log (level warn and up): ${s.podgateLog.warnings} warnings, ${s.podgateLog.errors} errors; by kind: ${counts(s.podgateLog.byKind)}`,
      ...s.podgateLog.firstErrors.map((l) => `  ${l}`),
    ],
    table: { rows: processRows(s), rightFrom: 1 },
  });
  const every = s.plan.durationS >= 300 ? 30 : s.plan.sampleEveryS;
  out.push({ title: `Over time (every ${every} s; heap without a GC, so it saws)`, lines: [], table: { rows: seriesRows(s, every), rightFrom: 2 } });
  out.push({ title: 'Rolling updates', lines: [], table: { rows: rolloutRows(s), rightFrom: 1 } });
  return out;
}

export function formatSoakText(file: SoakFile): string {
  const out: string[] = [`podgate soak (issue 17), ${file.soak.startedAt}`];
  for (const sec of sections(file)) {
    if (sec.title !== '') out.push('', `${sec.title}:`);
    out.push(...sec.lines);
    if (sec.table !== undefined) out.push(pad(sec.table.rows, sec.table.rightFrom));
  }
  return out.join('\n');
}

export function formatSoakMarkdown(file: SoakFile): string {
  const out: string[] = [`# podgate soak, ${file.soak.startedAt}`, ''];
  for (const sec of sections(file)) {
    if (sec.title !== '') out.push(`## ${sec.title}`, '');
    if (sec.lines.length > 0) out.push(...sec.lines.map((l) => `- ${l.replace(/^\s+/, '')}`), '');
    if (sec.table !== undefined) out.push(markdown(sec.table.rows, sec.table.rightFrom), '');
  }
  return out.join('\n');
}

/** Writes <dir>/soak-<stamp>.json and .md; returns their paths. */
export function writeSoakReport(dir: string, stamp: string, file: SoakFile): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `soak-${stamp}.json`);
  const md = join(dir, `soak-${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(file, null, 2)}\n`);
  writeFileSync(md, formatSoakMarkdown(file));
  return { json, md };
}
