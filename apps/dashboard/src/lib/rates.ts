import type { PeerView, ServiceView } from '@podgate/protocol';

/*
 * Rates from two successive views of a service. The view's counters are totals since the workers
 * started, summed over workers; a worker that restarts takes its share of the sum back to zero, so
 * a counter can go down. A drop is read as "no new traffic seen" (0), never as a negative rate.
 */

/** One point of a service's history. */
export interface ServicePoint {
  /** Client time of the later view, epoch ms. */
  at: number;
  requestsPerSec: number;
  /** Responses that were not 2xx/3xx plus failed tries on peers, per second. */
  errorsPerSec: number;
  /** Share of responses in the interval that were not 2xx/3xx (0 when there were none). */
  errorRate: number;
  retriesPerSec: number;
  /** The highest p99 among the service's peers (ms), null when no peer has latency data. */
  p99Ms: number | null;
}

export interface PeerRates {
  requestsPerSec: number;
  errorsPerSec: number;
  retriesPerSec: number;
}

/** A counter's growth; a drop (a worker restarted) counts as none. */
export function counterDelta(previous: number, next: number): number {
  return next > previous ? next - previous : 0;
}

const isSuccess = (status: string): boolean => status.startsWith('2') || status.startsWith('3');

/** Responses split into all and failed (not 2xx/3xx). */
export function responseTotals(responses: Readonly<Record<string, number>>): { all: number; failed: number } {
  let all = 0;
  let failed = 0;
  for (const [status, n] of Object.entries(responses)) {
    all += n;
    if (!isSuccess(status)) failed += n;
  }
  return { all, failed };
}

export function peerFailures(peer: PeerView): number {
  let n = 0;
  for (const count of Object.values(peer.errors)) n += count;
  return n;
}

/** The highest p99 over the peers that have one. */
export function maxPeerP99(service: ServiceView): number | null {
  let max: number | null = null;
  for (const p of service.peers) {
    if (p.latencyMs !== null && (max === null || p.latencyMs.p99 > max)) max = p.latencyMs.p99;
  }
  return max;
}

/**
 * The growth of the per-response counters summed per status class, per response status key. A
 * status that grows while another shrinks (a restart during traffic) still counts its growth.
 */
function responseDeltas(previous: Readonly<Record<string, number>>, next: Readonly<Record<string, number>>): { all: number; failed: number } {
  let all = 0;
  let failed = 0;
  for (const [status, n] of Object.entries(next)) {
    const d = counterDelta(previous[status] ?? 0, n);
    all += d;
    if (!isSuccess(status)) failed += d;
  }
  return { all, failed };
}

/** Rates of a peer between two views of it; a peer new in `next` started from zero. */
export function peerRates(previous: PeerView | undefined, next: PeerView, seconds: number): PeerRates {
  if (seconds <= 0) return { requestsPerSec: 0, errorsPerSec: 0, retriesPerSec: 0 };
  return {
    requestsPerSec: counterDelta(previous?.requests ?? 0, next.requests) / seconds,
    errorsPerSec: counterDelta(previous === undefined ? 0 : peerFailures(previous), peerFailures(next)) / seconds,
    retriesPerSec: counterDelta(previous?.retries ?? 0, next.retries) / seconds,
  };
}

/** A history point from the view before and the view now, `elapsedMs` apart, ending at `at`. */
export function servicePoint(previous: ServiceView, next: ServiceView, elapsedMs: number, at: number): ServicePoint {
  const seconds = elapsedMs / 1000;
  const p99Ms = maxPeerP99(next);
  if (seconds <= 0) return { at, requestsPerSec: 0, errorsPerSec: 0, errorRate: 0, retriesPerSec: 0, p99Ms };
  const responses = responseDeltas(previous.responses, next.responses);
  const before = new Map(previous.peers.map((p) => [p.address, p] as const));
  let failedTries = 0;
  for (const peer of next.peers) {
    const old = before.get(peer.address);
    failedTries += counterDelta(old === undefined ? 0 : peerFailures(old), peerFailures(peer));
  }
  return {
    at,
    requestsPerSec: counterDelta(previous.requests, next.requests) / seconds,
    errorsPerSec: (responses.failed + failedTries) / seconds,
    errorRate: responses.all === 0 ? 0 : responses.failed / responses.all,
    retriesPerSec: counterDelta(previous.retries, next.retries) / seconds,
    p99Ms,
  };
}
