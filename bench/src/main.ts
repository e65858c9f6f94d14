#!/usr/bin/env node
import { LabDnsServer } from '@podgate/lab';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureAddedLatency, type AddedLatency } from './added-latency.js';
import { measureIdleUpload, type IdleUpload } from './idle-upload.js';
import { Children } from './child-processes.js';
import { findings } from './findings.js';
import { measureIdleRss, planIdleConnections, type IdleRss } from './idle-rss.js';
import { ADMIN_PORTS, allListenAddresses, POD_HOSTS, PORTS, PROXY_HOST, SERVICE_DNS_NAME } from './layout.js';
import { machineInfo, versions } from './machine-info.js';
import { estimateSeconds, parseOptions, soakSeconds, USAGE, UsageError, type BenchOptions } from './options.js';
import { PODGATE_CLI, REPO_ROOT, RESULTS_DIR } from './paths.js';
import { runPickBench, type PickBench } from './pick-bench.js';
import { startPodgate } from './podgate-target.js';
import { startPods } from './pods.js';
import { groupRssBytes } from './proc-stats.js';
import { runProfile } from './profile-run.js';
import { formatText, writeReport, type BenchReport } from './report.js';
import { runSoak, soakPlan } from './soak.js';
import { formatSoakText, writeSoakReport } from './soak-report.js';
import type { StartContext } from './target.js';
import { checkTarget, startTargets } from './targets.js';
import { runThroughput } from './throughput.js';
import { ensureTools } from './tools.js';
import { listeningAlready } from './wait.js';
import { WORKLOADS } from './workloads.js';
import { runWrk, wrkArgs, wrkScript, writeWrkScript } from './wrk.js';

const t0 = Date.now();
const log = (line: string): void => {
  process.stdout.write(`[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)} s] ${line}\n`);
};

async function main(): Promise<number> {
  let options: BenchOptions | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    const message = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true ? (err as Error).message : String(err);
    process.stderr.write(`bench: ${message}\n${USAGE}\n`);
    return 2;
  }
  if (options === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.soakOnly) return soakAlone(options);
  const tools = ensureTools(log);
  if (!tools.ok) {
    process.stderr.write(`${tools.message}\n`);
    return 1;
  }
  if (!existsSync(PODGATE_CLI)) {
    process.stderr.write(`bench: ${PODGATE_CLI} is missing: run \`pnpm run build\` first (pnpm bench does)\n`);
    return 1;
  }
  const taken = await listeningAlready(allListenAddresses());
  if (taken.length > 0) {
    process.stderr.write(`bench: something already listens on ${taken.join(', ')} (a stray server of an earlier run?); stop it first\n`);
    return 1;
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const dir = mkdtempSync(join(tmpdir(), 'podgate-bench-'));
  const children = new Children();
  const dns = await LabDnsServer.start({ host: PROXY_HOST, port: 0 });
  // A long TTL: podgate re-resolves at most every 30 s (dns.maxRefresh), off the hot path.
  dns.setRecords(SERVICE_DNS_NAME, { a: [...POD_HOSTS], ttl: 300 });
  const ctx: StartContext = { children, dir, nameserver: dns.nameserver };
  let ok = false;
  try {
    const pods = await startPods(children, dir);
    log(`4 pods up on ${POD_HOSTS.join(', ')}; lab DNS on ${dns.nameserver}; scratch directory ${dir}`);
    if (options.profile) {
      // --workload picks what to profile under (the first one named); GET by default.
      const r = await runProfile(ctx, RESULTS_DIR, stamp, options.profileS, log, options.workloads[0]?.id);
      process.stdout.write(`\n${r.markdown}\nprofile: ${r.profileFile}\nsummary: ${r.summaryFile}\n`);
    } else {
      await runBench(
        options,
        ctx,
        pods.map((p) => p.pgid),
        stamp,
      );
    }
    ok = true;
    if (!options.profile && options.extras.includes('rollout')) {
      // Issue 5's open-loop rows (500 req/s through a rolling update, every mode, TTL 5 s and 30 s),
      // after the proxies above are stopped so they share the machine with nothing.
      await children.stopAll();
      log('rolling updates at an open-loop 500 req/s (e2e/bench, pnpm --filter @podgate/e2e run bench)');
      await runRolloutRows();
    }
    if (!options.profile && options.extras.includes('soak')) {
      // Last, on a machine that runs nothing else of ours (the soak starts its own pods and podgate).
      await children.stopAll();
      // Keep the logs (podgate's among them) if the soak throws.
      ok = false;
      const passed = await soakStep(options, children, dir, stamp);
      ok = true;
      if (!passed) return 1;
    }
    return 0;
  } finally {
    await children.stopAll();
    await dns.close();
    if (ok && process.env.PODGATE_BENCH_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`bench: logs of every child process are kept in ${dir}\n`);
  }
}

async function runBench(options: BenchOptions, ctx: StartContext, podGroups: number[], stamp: string): Promise<void> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const v = versions();
  log(`podgate bench${options.quick ? ' --quick' : ''}: ${machine.cpuModel} × ${machine.cores}, node ${v.node}, ${v.wrk}`);
  log(
    `about ${Math.round(estimateSeconds(options, options.targets.length) / 60)} min of load: ${options.workloads.map((w) => w.id).join(', ')} × ${options.targets.join(', ')}`,
  );

  let pick: PickBench | null = null;
  if (options.extras.includes('pick')) {
    log('balancer pick cost (packages/balancer/bench/pick-bench.mjs)');
    pick = await runPickBench();
    process.stdout.write(`${pick.output}\n`);
  }

  const { targets, skipped } = await startTargets(ctx, options.targets, v, log);
  for (const target of [...targets]) {
    const problem = await checkTarget(target);
    if (problem === null) continue;
    if (target.id === 'direct' || target.id.startsWith('podgate')) throw new Error(`${target.id} answers wrongly: ${problem}`);
    log(`  ${target.id} answers wrongly, skipped: ${problem}`);
    skipped.push({ id: target.id, reason: `wrong answer: ${problem}` });
    targets.splice(targets.indexOf(target), 1);
  }
  log(`targets up: ${targets.map((t) => `${t.id} ${t.url}`).join(', ')}`);

  const scripts = new Map(options.workloads.map((w) => [w.id, writeWrkScript(ctx.dir, w)]));
  const throughput = await runThroughput({
    targets,
    workloads: options.workloads,
    plan: { warmupS: options.warmupS, durationS: options.durationS, rounds: options.rounds },
    scriptFor: (w) => scripts.get(w.id) ?? '',
    podGroups,
    log,
  });
  const rssAfterLoad = targets.filter((t) => t.child !== null).map((t) => ({ target: t.id, bytes: t.child === null ? 0 : groupRssBytes(t.child.pgid).bytes }));

  let addedLatency: AddedLatency | null = null;
  const direct = targets.find((t) => t.id === 'direct');
  const podgate1w = targets.find((t) => t.id === 'podgate-1w');
  if (options.extras.includes('latency') && direct !== undefined && podgate1w !== undefined) {
    let max = throughput.find((r) => r.workload === 'get' && r.target === 'podgate-1w')?.rps;
    let basis = 'half of podgate 1w GET median req/s above';
    if (max === undefined) {
      const get = WORKLOADS.find((w) => w.id === 'get');
      if (get === undefined) throw new Error('no GET workload');
      max = (await runWrk(wrkArgs(podgate1w.url, get, options.durationS, writeWrkScript(ctx.dir, get)), options.durationS)).rps;
      basis = `half of podgate 1w GET req/s in one ${options.durationS} s wrk run`;
    }
    const rate = Math.max(100, Math.round(max / 2 / 100) * 100);
    log(`added latency: open loop at ${rate} req/s (${basis})`);
    addedLatency = await measureAddedLatency({
      children: ctx.children,
      dir: ctx.dir,
      direct,
      podgate: podgate1w,
      ratePerSecond: rate,
      basis,
      durationS: options.latencyS,
      rounds: options.latencyRounds,
      log,
    });
  }
  let idleUpload: IdleUpload | null = null;
  if (options.extras.includes('latency') && direct !== undefined && podgate1w !== undefined) {
    const bodyBytes = 1024 * 1024;
    log(`added latency of one ${bodyBytes} B upload on an idle proxy`);
    idleUpload = await measureIdleUpload({
      direct,
      podgate: podgate1w,
      bodyBytes,
      requestsPerRound: options.quick ? 50 : 200,
      rounds: options.latencyRounds,
      log,
    });
  }
  // The throughput targets are done: stop them so the idle measurement has the machine to itself.
  for (const t of targets) if (t.child !== null) await ctx.children.stop(t.child);

  let idleRss: IdleRss | null = null;
  if (options.extras.includes('idle')) {
    const fd = planIdleConnections(options.idleConnections);
    log(`idle connections: ${fd.count} to a fresh podgate 1w (${fd.note})`);
    const idle = await startPodgate(ctx, { name: 'podgate-idle', workers: 1, port: PORTS.podgateIdle, adminPort: ADMIN_PORTS.podgateIdle, wrap: fd.wrap });
    const get = WORKLOADS.find((w) => w.id === 'get');
    // Warm (JIT, upstream pools) as in service, then measure.
    if (get !== undefined) await runWrk(wrkArgs(idle.url, get, 2, writeWrkScript(ctx.dir, get)), 2);
    if (idle.child !== null) {
      idleRss = await measureIdleRss({
        children: ctx.children,
        dir: ctx.dir,
        podgate: idle.child,
        host: PROXY_HOST,
        port: PORTS.podgateIdle,
        count: fd.count,
        wrap: fd.wrap,
        fdNote: fd.note,
        log,
      });
      await ctx.children.stop(idle.child);
    }
  }

  const finishedAt = new Date().toISOString();
  const report: BenchReport = {
    startedAt,
    finishedAt,
    durationS: (Date.now() - t0) / 1000,
    plan: { quick: options.quick, warmupS: options.warmupS, durationS: options.durationS, rounds: options.rounds },
    machine,
    versions: v,
    targets: targets.map(({ id, label, url, setup, version }) => ({ id, label, url, setup, version })),
    skipped,
    workloads: options.workloads,
    wrkCommands: throughput.map((r) => r.command),
    wrkScripts: Object.fromEntries(options.workloads.map((w) => [w.id, wrkScript(w)])),
    throughput,
    rssAfterLoad,
    pick,
    addedLatency,
    idleUpload,
    idleRss,
    findings: findings(throughput, options.workloads, machine.cores),
  };
  const files = writeReport(RESULTS_DIR, stamp, report);
  process.stdout.write(`\n${formatText(report)}\n\nresults: ${files.json}\n         ${files.md}\n`);
}

/** `pnpm bench --soak`: the soak and nothing else (no wrk, no four fixed pods). */
async function soakAlone(options: BenchOptions): Promise<number> {
  if (!existsSync(PODGATE_CLI)) {
    process.stderr.write(`bench: ${PODGATE_CLI} is missing: run \`pnpm run build\` first (pnpm bench does)\n`);
    return 1;
  }
  const taken = await listeningAlready([
    { host: PROXY_HOST, port: PORTS.podgateSoak },
    { host: PROXY_HOST, port: ADMIN_PORTS.podgateSoak },
  ]);
  if (taken.length > 0) {
    process.stderr.write(`bench: something already listens on ${taken.join(', ')} (a stray server of an earlier run?); stop it first\n`);
    return 1;
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const dir = mkdtempSync(join(tmpdir(), 'podgate-soak-'));
  const children = new Children();
  let finished = false;
  try {
    const ok = await soakStep(options, children, dir, stamp);
    finished = true;
    return ok ? 0 : 1;
  } finally {
    await children.stopAll();
    if (finished && process.env.PODGATE_BENCH_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`bench: podgate's log and config are kept in ${dir}\n`);
  }
}

/** Runs the soak, prints and writes its report; false when it failed its checks. */
async function soakStep(options: BenchOptions, children: Children, dir: string, stamp: string): Promise<boolean> {
  const plan = soakPlan(options.quick, options.soakS);
  const machine = machineInfo();
  const v = versions();
  log(`soak (issue 17): about ${Math.round(soakSeconds(options) / 60)} min; ${machine.cpuModel} × ${machine.cores}, node ${v.node}`);
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const command = process.env.npm_lifecycle_event === 'bench' ? `pnpm bench ${args.join(' ')}`.trim() : `node bench/dist/main.js ${args.join(' ')}`.trim();
  const soak = await runSoak({ children, dir, log, command }, plan);
  const file = { machine, versions: { node: v.node, podgate: v.podgate }, soak };
  const files = writeSoakReport(RESULTS_DIR, stamp, file);
  process.stdout.write(`\n${formatSoakText(file)}\n\nsoak results: ${files.json}\n              ${files.md}\n`);
  if (!soak.verdict.ok) process.stderr.write(`\nbench: THE SOAK FAILED:\n${soak.verdict.lines.filter((l) => l.startsWith('FAIL')).join('\n')}\n`);
  return soak.verdict.ok;
}

function runRolloutRows(): Promise<void> {
  return new Promise((resolve, reject) => {
    // Bounded: 8 rollouts of about 8 s each; the limit only catches a hang.
    const child = spawn('pnpm', ['--filter', '@podgate/e2e', 'run', 'bench'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 300_000 });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the rollout rows failed (exit ${code})`))));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
