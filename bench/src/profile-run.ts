import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Children } from './child-processes.js';
import { formatProfileMarkdown, summariseProfile, type CpuProfile } from './cpu-profile.js';
import { ADMIN_PORTS, PORTS } from './layout.js';
import { startPodgate } from './podgate-target.js';
import { groupProcesses, machineTicks, sampleMainThread } from './proc-stats.js';
import type { StartContext } from './target.js';
import { WORKLOADS } from './workloads.js';
import { runWrk, wrkArgs, writeWrkScript } from './wrk.js';

export interface ProfileResult {
  profileFile: string;
  summaryFile: string;
  wrkCommand: string;
  rps: number;
  markdown: string;
}

/**
 * podgate with 1 worker (the data plane in the primary, where --cpu-prof applies) under a
 * workload (GET unless told) for durationS; the profile is written when podgate exits on SIGTERM.
 */
export async function runProfile(
  ctx: StartContext & { children: Children },
  resultsDir: string,
  stamp: string,
  durationS: number,
  log: (line: string) => void,
  workload = 'get',
): Promise<ProfileResult> {
  const profDir = join(ctx.dir, 'cpu-prof');
  const target = await startPodgate(ctx, {
    name: 'podgate-profile',
    workers: 1,
    port: PORTS.podgateProfile,
    adminPort: ADMIN_PORTS.podgateProfile,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir, '--trace-gc'],
  });
  const get = WORKLOADS.find((w) => w.id === workload);
  if (get === undefined || target.child === null) throw new Error(`no workload ${workload}`);
  const child = target.child;
  const script = writeWrkScript(ctx.dir, get);
  const args = wrkArgs(target.url, get, durationS, script);
  log(`  wrk ${args.join(' ')}`);
  const mainPid = groupProcesses(child.pgid).find((p) => p.comm === 'node')?.pid;
  if (mainPid === undefined) throw new Error('podgate process not found');
  const before = sampleMainThread(mainPid);
  const m0 = machineTicks();
  const logFrom = statSync(child.logFile).size;
  const wrkStart = performance.now();
  const r = await runWrk(args, durationS);
  const wrkEnd = performance.now();
  const gc = heapAllocation(readFileSync(child.logFile, 'latin1').slice(logFrom, statSync(child.logFile).size));
  const after = sampleMainThread(mainPid);
  const m1 = machineTicks();
  const machineBusy = (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total);
  const seconds = (wrkEnd - wrkStart) / 1000;
  const involuntary = after.involuntarySwitches - before.involuntarySwitches;
  // V8's sampler records wall time: a thread preempted inside a syscall is sampled there, so the
  // scheduler's share must be stated next to the profile or writev looks like CPU work.
  const scheduling =
    `During the run the event loop thread was on a CPU ${(after.mainThreadCpuS - before.mainThreadCpuS).toFixed(1)} s of ${seconds.toFixed(1)} s ` +
    `(the whole process ${((after.processCpuS - before.processCpuS) / seconds).toFixed(2)} cores) and was preempted ${involuntary} times ` +
    `(${(involuntary / Math.max(1, r.requests)).toFixed(2)} a request; ${after.voluntarySwitches - before.voluntarySwitches} voluntary switches); ` +
    `the machine's ${os.cpus().length} cores were ${(machineBusy * 100).toFixed(0)} % busy. ` +
    'V8 samples wall-clock time: time spent waiting for a CPU after a preemption is counted in the native function the thread was in, ' +
    'typically writev / writeLatin1String, whose write woke the peer (wrk or a pod) that then took the CPU.';
  log(`  ${scheduling}`);
  log(`  under the profiler: ${r.rps.toFixed(0)} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, errors ${r.errors.total}`);
  // Unlike req/s, bytes allocated per request do not depend on what else the machine runs.
  const allocation =
    `JS heap allocated per request: ${((gc.allocatedMiB * 1024) / Math.max(1, r.requests)).toFixed(2)} KiB ` +
    `(${gc.allocatedMiB.toFixed(0)} MiB over ${r.requests} requests; ${gc.scavenges} scavenges, ${gc.markCompacts} mark-compacts, GC pauses ${((gc.pauseMs * 1000) / Math.max(1, r.requests)).toFixed(1)} µs a request; from --trace-gc).`;
  log(`  ${allocation}`);
  let exitAt = 0;
  void child.exited.then(() => (exitAt = performance.now()));
  await ctx.children.stop(child, 30_000);
  const written = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  if (written.length === 0) throw new Error(`podgate wrote no .cpuprofile in ${profDir}`);
  // workers: 1 is one process, so one profile.
  const profileFile = join(resultsDir, `${stamp}-podgate-1w-${workload}.cpuprofile`);
  // Copied, not renamed: the temp directory may be on another file system.
  copyFileSync(join(profDir, written[0] ?? ''), profileFile);
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  // The profile ends when podgate exits: count back from there to keep only the wrk run,
  // not podgate's start-up (module loading, the admin API's schemas) or its shutdown.
  const lengthUs = profile.endTime - profile.startTime;
  const window = { fromUs: lengthUs - (exitAt - wrkStart) * 1000, toUs: lengthUs - (exitAt - wrkEnd) * 1000 };
  const summary = summariseProfile(profile, 15, window);
  const title = `podgate 1 worker under ${get.label} (wrk -t1 -c${get.connections}, ${durationS} s, ${r.rps.toFixed(0)} req/s under the profiler; samples of the wrk run only)`;
  const markdown = `${formatProfileMarkdown(summary, title)}\n${scheduling}\n\n${allocation}\n\nwrk command: \`wrk ${args.join(' ')}\`\n`;
  const summaryFile = join(resultsDir, `${stamp}-podgate-1w-${workload}-profile.md`);
  writeFileSync(summaryFile, markdown);
  return { profileFile, summaryFile, wrkCommand: `wrk ${args.join(' ')}`, rps: r.rps, markdown };
}

/**
 * What the JS heap grew by between collections, summed over --trace-gc lines such as
 * `Scavenge 28.1 (61.6) -> 25.2 (61.6) MB`: each collection's "before" minus the last one's "after".
 */
export function heapAllocation(traceGc: string): { allocatedMiB: number; scavenges: number; markCompacts: number; pauseMs: number } {
  let previousAfter: number | null = null;
  let pauseMs = 0;
  let allocatedMiB = 0;
  let scavenges = 0;
  let markCompacts = 0;
  for (const m of traceGc.matchAll(/ ms: (Scavenge|Mark-Compact)\S* ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, ([\d.]+) \//g)) {
    const before = Number(m[2]);
    pauseMs += Number(m[4]);
    if (previousAfter !== null) allocatedMiB += Math.max(0, before - previousAfter);
    previousAfter = Number(m[3]);
    if (m[1] === 'Scavenge') scavenges++;
    else markCompacts++;
  }
  return { allocatedMiB, scavenges, markCompacts, pauseMs };
}
