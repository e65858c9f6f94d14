import { LabError } from './lab-error.js';
import type { LabPod, TerminationMode } from './pod.js';

export interface RolloutOptions {
  /** Pods above `replicas` while rolling; default 1 (Kubernetes' default is 25%). */
  maxSurge?: number;
  /** Pods below `replicas` allowed while rolling; default 0. */
  maxUnavailable?: number;
  /**
   * How long DNS still lists a pod after its termination began; default 0. Per mode, for pods that
   * leave the endpoints later than others (a lost node's pods stay listed until the node controller
   * gives up on it, 40 s by default): modes left out get 0.
   */
  dnsLagMs?: number | Partial<Record<TerminationMode, number>>;
  /**
   * How old pods die; `mixed` cycles graceful, refuse, blackhole (not hang, which came later:
   * issue 5's mixed rows keep their meaning); a list gives the mode of each terminated pod in
   * turn (cycling when the rollout terminates more pods than it lists).
   */
  mode: TerminationMode | 'mixed' | readonly TerminationMode[];
  /** A new pod is listed in DNS this long after it started; default 100. */
  readyDelayMs?: number;
  /** Pause after each step that started or terminated pods; default 0. */
  stepPauseMs?: number;
  /** Grace period: graceful pods are cut and hung ones killed when it ends; default 30 s. */
  graceMs?: number;
  /**
   * A blackholed pod is closed this long after its termination began, as when its node comes back
   * without it (connects are then refused); default: it stays silent until the cluster closes.
   */
  blackholeMs?: number;
  onStep?: (e: RolloutStep) => void;
}

export interface RolloutStep {
  /** ms since the rollout began. */
  at: number;
  kind: 'pod_started' | 'pod_listed' | 'pod_unlisted' | 'pod_terminating' | 'pod_closed';
  pod: string;
  address: string;
  mode?: TerminationMode;
}

export type EmitStep = (kind: RolloutStep['kind'], pod: LabPod, mode?: TerminationMode) => void;

/** What a rollout needs from the cluster it rolls. */
export interface RolloutHost {
  readonly replicas: number;
  /** Running pods when the rollout begins: the ones to replace. */
  runningPods(): readonly LabPod[];
  /** Starts a pod on a fresh IP, counted as running but not yet listed. */
  startPod(): Promise<LabPod>;
  /** Publishes the pod in DNS. */
  list(pod: LabPod): void;
  /** Terminates the pod and unlists it after dnsLagMs; resolves when both are done (a blackholed pod's later close aside). */
  retire(pod: LabPod, mode: TerminationMode, dnsLagMs: number, graceMs: number | undefined, emit: EmitStep, blackholeMs?: number): Promise<void>;
  /** Resolves after ms, at once when the cluster closes, or when `cancel` fires (timer freed). */
  after(ms: number, cancel?: AbortSignal): Promise<void>;
  isClosed(): boolean;
}

// No lab rollout should take this long; past it something is stuck, and a test must not hang.
const ROLLOUT_LIMIT_MS = 5 * 60_000;
// Issue 5's mix; hang stays out so rows that say "mixed" mean what they meant then.
const MIXED: readonly TerminationMode[] = ['graceful', 'refuse', 'blackhole'];

/**
 * Kubernetes RollingUpdate: pods (ready or not, terminating ones not counted) never exceed
 * replicas + maxSurge, ready pods never drop below replicas - maxUnavailable, and an old
 * pod is terminated only when that floor allows it.
 */
export async function runRollingUpdate(host: RolloutHost, options: RolloutOptions): Promise<RolloutStep[]> {
  const maxSurge = options.maxSurge ?? 1;
  const maxUnavailable = options.maxUnavailable ?? 0;
  const readyDelayMs = options.readyDelayMs ?? 100;
  const stepPauseMs = options.stepPauseMs ?? 0;
  const lag = options.dnsLagMs ?? 0;
  const dnsLagOf = (mode: TerminationMode): number => (typeof lag === 'number' ? lag : (lag[mode] ?? 0));
  const lags: Record<string, number> = typeof lag === 'number' ? { dnsLagMs: lag } : {};
  if (typeof lag !== 'number') for (const [mode, ms] of Object.entries(lag)) if (ms !== undefined) lags[`dnsLagMs.${mode}`] = ms;
  if (options.blackholeMs !== undefined) lags.blackholeMs = options.blackholeMs;
  validate({ maxSurge, maxUnavailable, readyDelayMs, stepPauseMs, ...lags });

  const t0 = Date.now();
  const deadline = t0 + ROLLOUT_LIMIT_MS;
  const steps: RolloutStep[] = [];
  const emit: EmitStep = (kind, pod, mode) => {
    const step: RolloutStep = { at: Date.now() - t0, kind, pod: pod.name, address: pod.address };
    if (mode !== undefined) step.mode = mode;
    steps.push(step);
    options.onStep?.(step);
  };
  const old = [...host.runningPods()];
  const fresh: LabPod[] = [];
  const ready = new Set<LabPod>();
  const retiring: Promise<void>[] = [];
  let terminated = 0;
  let wake: () => void = () => {};
  let failure: { err: unknown } | undefined;

  while (!(old.length === 0 && ready.size >= host.replicas)) {
    if (host.isClosed()) throw new LabError('LAB_CLOSED', 'the cluster closed during the rollout');
    if (Date.now() > deadline) throw rolloutTimeout();
    if (failure !== undefined) throw failure.err;
    let acted = false;
    while (old.length + fresh.length < host.replicas + maxSurge && fresh.length < host.replicas) {
      const pod = await host.startPod();
      fresh.push(pod);
      emit('pod_started', pod);
      acted = true;
      void host.after(readyDelayMs).then(() => {
        if (host.isClosed()) return;
        ready.add(pod);
        host.list(pod);
        emit('pod_listed', pod);
        wake();
      });
    }
    let removable = old.length + ready.size - (host.replicas - maxUnavailable);
    while (removable > 0 && old.length > 0) {
      const pod = old.shift() as LabPod;
      const cycle = options.mode === 'mixed' ? MIXED : typeof options.mode === 'string' ? [options.mode] : options.mode;
      const mode = cycle[terminated % cycle.length] as TerminationMode;
      terminated++;
      const retired = host.retire(pod, mode, dnsLagOf(mode), options.graceMs, emit, options.blackholeMs);
      // Handled here so a failed termination (say, no python3) ends the rollout at once.
      retired.catch((err: unknown) => {
        failure ??= { err };
        wake();
      });
      retiring.push(retired);
      removable--;
      acted = true;
    }
    if (acted) {
      if (stepPauseMs > 0) await host.after(stepPauseMs);
      continue;
    }
    // Nothing to do until a new pod becomes ready. No await ran since the checks above,
    // so no readiness can have slipped in between.
    await untilOrDeadline(host, new Promise<void>((resolve) => (wake = resolve)), deadline);
  }
  const settled = await untilOrDeadline(host, Promise.all(retiring), deadline);
  if (!settled && !host.isClosed()) throw rolloutTimeout();
  return steps;
}

/** True if `event` came first, false at the deadline or when the cluster closed. */
async function untilOrDeadline(host: RolloutHost, event: Promise<unknown>, deadline: number): Promise<boolean> {
  const cancel = new AbortController();
  try {
    return await Promise.race([event.then(() => true), host.after(Math.max(0, deadline - Date.now()), cancel.signal).then(() => false)]);
  } finally {
    cancel.abort();
  }
}

function rolloutTimeout(): LabError {
  return new LabError('LAB_ROLLOUT_TIMEOUT', `the rollout took more than ${ROLLOUT_LIMIT_MS / 60_000} min`);
}

function validate(values: Record<string, number>): void {
  for (const [key, value] of Object.entries(values)) {
    if (!(Number.isInteger(value) && value >= 0)) {
      throw new LabError('LAB_INVALID_OPTION', `invalid ${key}: ${value}`);
    }
  }
  // Kubernetes rejects this too: no pod could ever be replaced.
  if (values.maxSurge === 0 && values.maxUnavailable === 0) {
    throw new LabError('LAB_INVALID_OPTION', 'maxSurge and maxUnavailable cannot both be 0');
  }
}
