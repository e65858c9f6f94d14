import type { PeerHold } from '@podgate/balancer';
import type { PeerState, PeerStateReason, PodgateConfig, ServiceConfig } from '@podgate/protocol';

/*
 * What the primary (control plane) and the data-plane workers tell each other. With `workers: 1`
 * the same messages pass in memory; with more they travel over node:cluster IPC. One code path.
 */

/** A peer's state as the primary decided it. */
export interface PeerSync {
  address: string;
  state: PeerState;
  reason: PeerStateReason;
  until: number | null;
  hold: PeerHold | null;
}

export type ToWorker =
  /** The whole set of services: workers add, remove and replace theirs to match. */
  | { type: 'services'; services: ServiceConfig[] }
  /**
   * A service's peers (`ip:port`) and the states of those that are not plainly active. `reason`,
   * when `addresses` is empty: why DNS gives no pods (no answer yet, the name has no records, or
   * the nameserver failing, named), for the 503 a client gets.
   */
  | { type: 'peers'; service: string; addresses: string[]; states: PeerSync[]; reason?: string | null }
  | { type: 'peer_state'; service: string; peer: PeerSync }
  /** Answer with stats carrying this `barrier` once everything sent before it is applied. */
  | { type: 'barrier'; seq: number };

export type ToPrimary =
  /** This worker ejected a peer on its own evidence (and already stopped using it). */
  | { type: 'ejected'; service: string; address: string; reason: PeerStateReason; detail: string; at: number }
  | { type: 'stats'; stats: WorkerStats; barrier?: number }
  /** Something worth an event in the primary's log (a rescue), seen by this worker. */
  | { type: 'notice'; service: string; address: string; kind: 'requests_rescued'; detail: string; at: number };

/** A worker's replica of the peer tables, for tests and debugging. */
export interface WorkerInspection {
  services: { name: string; peers: PeerSync[] }[];
}

/** Process-level messages from the primary to a worker process, beside the data-plane ones. */
export type WorkerControl = { type: 'init'; worker: number; config: PodgateConfig } | { type: 'shutdown'; graceMs: number } | { type: 'inspect'; id: number };

/** What a worker process tells the primary: its own life, and the data-plane messages. */
export type WorkerReport =
  { type: 'hello' } | { type: 'listening'; port: number } | { type: 'inspection'; id: number; inspection: WorkerInspection } | ToPrimary;

/** Latency histogram bucket upper bounds, ms (the last bucket is +Inf). */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000] as const;

export interface PeerStats {
  address: string;
  inFlight: number;
  requests: number;
  retries: number;
  failures: Partial<Record<string, number>>;
  lastFailure: { cause: string; at: number; detail: string } | null;
  /** Response-header latency of tries, cumulative counts per LATENCY_BUCKETS_MS bucket (+Inf last). */
  latency: number[];
}

export interface ServiceStats {
  name: string;
  inFlight: number;
  requests: number;
  retries: number;
  budgetExhausted: number;
  responses: Record<string, number>;
  /** Whole-request duration, cumulative counts per LATENCY_BUCKETS_MS bucket (+Inf last), and the sum. */
  duration: number[];
  durationSumMs: number;
  /** Tries moved to another peer because their connection was late (`connectHedge`). */
  connectHedges: number;
  /** Twins sent to another peer while a stalled try still waits (`hedge.methods`). */
  hedges: number;
  rescued: number;
  probes: { ok: number; failed: number };
  peers: PeerStats[];
}

/**
 * Totals since the worker started (histograms: a count per bucket, not cumulative over buckets):
 * the primary keeps each worker's latest and sums them.
 */
export interface WorkerStats {
  worker: number;
  at: number;
  /** The front serving clients (docs/http-front.md); absent before the worker listens. */
  front?: 'native' | 'node';
  services: ServiceStats[];
}

/** Index of the bucket a value falls in. */
export function bucketOf(ms: number): number {
  let i = 0;
  while (i < LATENCY_BUCKETS_MS.length && ms > (LATENCY_BUCKETS_MS[i] as number)) i++;
  return i;
}
