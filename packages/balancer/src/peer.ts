import type { FailureCause, PeerState, PeerStateReason } from '@podgate/protocol';

/** Operator decisions that outlive DNS refreshes: a drained or manually ejected address stays so. */
export type PeerHold = 'drain' | 'eject';

/**
 * Ejection reasons that show the pod itself is gone or its process no longer serves: its port
 * refused, its connect or a probe timed out, it reset a connection before answering, or a probe
 * found it dead or hung. Such a peer is never picked, panic or not, until a probe passes (or DNS
 * brings its address back as a new peer). Reasons from response-level evidence (consecutive 5xx,
 * response timeouts, a close before the header) may be wrong about the pod (a bad request, a
 * slow dependency): those are what the panic rule may route to (Envoy's outlier detection).
 */
export const KNOWN_DEAD_REASONS: ReadonlySet<PeerStateReason> = new Set<PeerStateReason>([
  'connect_refused',
  'connect_timeout',
  'connect_unreachable',
  'reset_before_header',
  'probe_failed',
  'stalled',
]);

export interface PeerFailure {
  cause: FailureCause;
  at: number;
  detail: string;
}

/**
 * One pod address in a service's peer table. Identity is `host:port`; state and counters survive
 * DNS refreshes. `handle` is the data plane's slot (its connection pool), kept here so a try needs
 * no map lookup.
 */
export class Peer<H = unknown> {
  readonly address: string;
  readonly host: string;
  readonly port: number;

  state: PeerState = 'active';
  reason: PeerStateReason = 'dns';
  since: number;
  /** Operator hold, if any. */
  hold: PeerHold | null = null;
  /** Listed in the last DNS answer. */
  listed = true;

  /** Smooth weighted round robin: configured weight and the running current weight. */
  weight = FULL_WEIGHT;
  currentWeight = 0;

  inFlight = 0;
  requests = 0;
  retries = 0;
  failures: Partial<Record<FailureCause, number>> = {};
  lastFailure: PeerFailure | null = null;
  /** Response-header latency of tries: counts per bucket of the data plane's histogram. */
  latency: number[] = [];

  /** Automatic ejections so far (decays after a long healthy spell); sets the next ejection time. */
  ejections = 0;
  /**
   * Every ejection of it while in the table, automatic or by hand, never decaying: its `peer_ejected`
   * events, as podgate_ejections_total counts them. What the API and the dashboard show as ejections.
   */
  timesEjected = 0;
  /** When an automatic ejection ends; null when not ejected or ejected by an operator. */
  ejectedUntil: number | null = null;
  lastReturnAt = 0;
  consecutiveFailures = 0;

  handle: H | undefined;

  /** Slow start: when the current ramp began, or null when not ramping. */
  rampStart: number | null = null;
  /** A try of it stalled: no new requests until its probe passes (data plane only). */
  suspect = false;
  /** A return probe (primary) or a liveness probe (data plane) is running. */
  probing = false;
  /** Last successful liveness probe: it vouches for the tries sent before it. */
  lastProbeOk = 0;
  /** Last response header from it (data plane). */
  lastAnswerAt = 0;
  /**
   * Primary: a drain waits for every worker to confirm its in-flight count after it stopped
   * sending to the peer; until then the peer is `draining` even when the last count said 0.
   */
  drainPending = false;
  /** Probes passed since it last answered: each doubles the wait before the next (data plane). */
  quietProbes = 0;

  constructor(address: string, now: number) {
    this.address = address;
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon);
    this.host = host.startsWith('[') ? host.slice(1, -1) : host;
    this.port = Number(address.slice(colon + 1));
    this.since = now;
  }

  /** Ejected by passive detection, so it comes back by itself (after its return probe passes). */
  get autoEjected(): boolean {
    return this.state === 'ejected' && this.ejectedUntil !== null;
  }

  /** Ejected on evidence that the pod is gone (KNOWN_DEAD_REASONS): never picked, panic or not. */
  get knownDead(): boolean {
    return this.autoEjected && KNOWN_DEAD_REASONS.has(this.reason);
  }
}

/** Weight of a peer at full share; slow start ramps from a tenth of it. */
export const FULL_WEIGHT = 100;

/** `host:port`, with IPv6 hosts in brackets. */
export function peerAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
