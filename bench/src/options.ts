import { parseArgs } from 'node:util';
import { TARGET_IDS, type TargetId } from './target.js';
import { WORKLOADS, type Workload } from './workloads.js';

/** The soak's measured period: 10 minutes, or 50 s with --quick (each after its warm-up). */
export const SOAK_DEFAULT_S = 600;
export const SOAK_QUICK_S = 50;

export type Extra = 'pick' | 'latency' | 'idle' | 'rollout' | 'soak';
const EXTRAS: readonly Extra[] = ['pick', 'latency', 'idle', 'rollout', 'soak'];

export interface BenchOptions {
  quick: boolean;
  /** Only CPU-profile podgate 1w under GET, nothing else. */
  profile: boolean;
  /** Only the soak (issue 17), nothing else. */
  soakOnly: boolean;
  /** The soak's measured seconds (after its warm-up). */
  soakS: number;
  targets: TargetId[];
  workloads: Workload[];
  extras: Extra[];
  warmupS: number;
  durationS: number;
  rounds: number;
  latencyS: number;
  latencyRounds: number;
  idleConnections: number;
  profileS: number;
}

export const USAGE = `usage: pnpm bench [options]   (or: node bench/dist/main.js [options])

  --quick              smoke run, about 2 minutes (shorter and fewer rounds)
  --only=a,b           targets: ${TARGET_IDS.join(', ')} (direct always runs: it is the ceiling)
  --workload=a,b       workloads: ${WORKLOADS.map((w) => w.id).join(', ')}
  --skip=a,b           skip extras: ${EXTRAS.join(', ')}
  --duration=S         seconds per measured round (default 5, quick 2)
  --rounds=N           interleaved rounds per workload (default 3, quick 2)
  --profile            only: CPU-profile podgate 1 worker under the GET load, or the first --workload (node --cpu-prof)
  --soak               only: the soak (issue 17), ${SOAK_DEFAULT_S / 60} min measured (quick ${SOAK_QUICK_S} s) after a warm-up;
                       it also runs last in a full run (--skip=soak leaves it out)
  --soak-duration=S    the soak's measured seconds (20-3600)
  --help               this text`;

export class UsageError extends Error {
  readonly code = 'PODGATE_BENCH_USAGE';
}

function list<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`unknown ${what} "${item}" (one of ${allowed.join(', ')})`);
  }
  return items as T[];
}

function positiveInt(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 600) throw new UsageError(`invalid ${what} "${value}" (an integer 1-600)`);
  return n;
}

/** Returns null for --help. */
export function parseOptions(argv: string[]): BenchOptions | null {
  // A lone `--` from `pnpm bench -- --quick` reaches us; skip it.
  const args = argv.filter((a) => a !== '--');
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      quick: { type: 'boolean' },
      profile: { type: 'boolean' },
      only: { type: 'string' },
      workload: { type: 'string' },
      skip: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      soak: { type: 'boolean' },
      'soak-duration': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return null;
  const quick = values.quick === true;
  const only = list(values.only, TARGET_IDS, 'target');
  const targets = only === undefined ? [...TARGET_IDS] : TARGET_IDS.filter((t) => t === 'direct' || only.includes(t));
  const workloadIds = list(
    values.workload,
    WORKLOADS.map((w) => w.id),
    'workload',
  );
  const workloads = workloadIds === undefined ? [...WORKLOADS] : WORKLOADS.filter((w) => workloadIds.includes(w.id));
  const skip = list(values.skip, EXTRAS, 'extra') ?? [];
  if (values.soak === true && values.profile === true) throw new UsageError('--soak and --profile each run alone: pick one');
  const soakDuration = values['soak-duration'];
  let soakS = quick ? SOAK_QUICK_S : SOAK_DEFAULT_S;
  if (soakDuration !== undefined) {
    soakS = Number(soakDuration);
    if (!Number.isInteger(soakS) || soakS < 20 || soakS > 3600)
      throw new UsageError(`invalid soak duration "${soakDuration}" (an integer 20-3600, seconds: room for one rolling update at least)`);
  }
  return {
    quick,
    profile: values.profile === true,
    soakOnly: values.soak === true,
    soakS,
    targets,
    workloads,
    extras: EXTRAS.filter((e) => !skip.includes(e)),
    // Full: 7 targets × 3 workloads × (2 + 3 × 5 s) ≈ 6 min of load, ≈ 8 min in all.
    // Quick: 7 × 3 × (1 + 2 × 2 s) ≈ 2 min.
    warmupS: quick ? 1 : 2,
    durationS: positiveInt(values.duration, 'duration') ?? (quick ? 2 : 5),
    rounds: positiveInt(values.rounds, 'rounds') ?? (quick ? 2 : 3),
    latencyS: quick ? 3 : 8,
    latencyRounds: quick ? 1 : 2,
    idleConnections: 10_000,
    profileS: 10,
  };
}

/** Seconds of load the run will take, for the banner (startup and extras come on top). */
export function estimateSeconds(o: BenchOptions, targetCount: number): number {
  let s = o.workloads.length * targetCount * (o.warmupS + o.rounds * o.durationS);
  if (o.extras.includes('latency')) s += 2 * o.latencyRounds * o.latencyS;
  if (o.extras.includes('idle')) s += 15;
  if (o.extras.includes('rollout')) s += 70;
  if (o.extras.includes('soak')) s += soakSeconds(o);
  return s;
}

/** The soak's wall time: warm-up, measured period, start-up and wind-down (about). */
export function soakSeconds(o: BenchOptions): number {
  return o.soakS + (o.quick ? 10 : 30) + 30;
}
