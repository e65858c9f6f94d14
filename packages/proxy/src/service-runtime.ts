import { Peer, PeerTable } from '@podgate/balancer';
import type { PeerEvent, ServiceConfig } from '@podgate/protocol';
import { buildConnector, Pool } from 'undici';
import type { Socket } from 'node:net';
import { noteCorks } from './body-pool.js';
import { aliveProbe, httpProbe, type ProbeResult } from './peer-probe.js';
import type { UpstreamTry } from './upstream-try.js';
import { WindowHistogram } from './window-histogram.js';
import { RetryBudget } from './retry-budget.js';
import { LATENCY_BUCKETS_MS, type PeerSync, type ServiceStats } from './messages.js';

// A probe gets at least this long, whatever the usual connect time (a lost SYN is retried after 1 s).
const MIN_PROBE_MS = 50;
// A peer silent this many times the service's median response time while the others answer gets
// no new requests until its probe answers (not less than QUIET_MIN_MS: timer and loop noise).
const QUIET_FACTOR = 4;
const QUIET_MIN_MS = 25;
// A live process answers OPTIONS * at once (no application work), but a busy single-threaded one
// only between requests: at least this long, and twice the service's p99 response time.
const MIN_ANSWER_MS = 100;

/** Counters of one service, read by the access log, the admin API and metrics. */
export interface ServiceCounters {
  requests: number;
  inFlight: number;
  retries: number;
  retriesInFlight: number;
  /** Retries refused because the budget was spent. */
  budgetExhausted: number;
  responses: Record<string, number>;
  /** Whole-request durations per LATENCY_BUCKETS_MS bucket (+Inf last), and their sum. */
  duration: Uint32Array;
  durationSumMs: number;
  /** Connect hedges: tries moved to another peer because their connection was late (`connectHedge`). */
  connectHedges: number;
  /** Hedges: twins sent to another peer while a stalled try still waits (`hedge.methods`). */
  hedges: number;
  /** Tries re-sent because their peer was found dead while they waited for a response header. */
  rescued: number;
  probes: { ok: number; failed: number };
}

/** Something the primary should log as an event (it happened in the data plane). */
export interface DataPlaneNotice {
  type: 'requests_rescued';
  service: string;
  address: string;
  detail: string;
}

/**
 * A service in the data plane: its config, its peer table and one undici Pool per peer (not
 * BalancedPool: it cannot eject). Pools are made on a peer's first try and closed when the peer
 * leaves the table.
 */
export class ServiceRuntime {
  readonly name: string;
  readonly config: ServiceConfig;
  readonly table: PeerTable<Pool>;
  readonly counters: ServiceCounters = {
    requests: 0,
    inFlight: 0,
    retries: 0,
    retriesInFlight: 0,
    budgetExhausted: 0,
    responses: {},
    duration: new Uint32Array(LATENCY_BUCKETS_MS.length + 1),
    durationSumMs: 0,
    connectHedges: 0,
    hedges: 0,
    rescued: 0,
    probes: { ok: 0, failed: 0 },
  };
  /** Tries waiting for (or reading) a response, for the stall sweep. */
  readonly inflight = new Set<UpstreamTry>();
  /** Response-header and connect times of the last ~10 s: what "stalled" and "late" mean here. */
  readonly headerLatency = new WindowHistogram();
  readonly connectLatency = new WindowHistogram();
  /** When any peer of this service last sent a response header. */
  lastAnswerAt = 0;
  readonly retryBudget: RetryBudget;
  private readonly notify: (notice: DataPlaneNotice) => void;
  /**
   * Set while DNS gives no address, to explain the 503: no answer yet, the name has no records, or
   * the nameserver failing (named), as the primary's discovery reported it.
   */
  emptyReason: string | null = 'no DNS answer yet (still resolving)';
  private readonly poolOptions: Pool.Options;

  constructor(config: ServiceConfig, onEvent: (event: PeerEvent) => void, notify: (notice: DataPlaneNotice) => void = () => undefined) {
    this.name = config.name;
    this.config = config;
    this.notify = notify;
    this.table = new PeerTable<Pool>({
      // A replica: ejections end when the primary says so (after its return probe).
      autoReturn: false,
      slowStartMs: config.slowStart.windowMs,
      service: config.name,
      algorithm: config.algorithm,
      consecutive5xx: config.ejection.consecutive5xx,
      baseEjectionMs: config.ejection.baseMs,
      maxEjectionMs: config.ejection.maxMs,
      maxEjectedPercent: config.ejection.maxEjectedPercent,
      onEvent,
      onRemove: (peer) => {
        const pool = (peer as Peer<Pool>).handle;
        if (pool !== undefined) void pool.close().catch(() => undefined);
      },
    });
    this.retryBudget = new RetryBudget(config.retry.budget.percent, config.retry.budget.minPerSecond);
    this.poolOptions = {
      connections: config.keepalive.connections === 0 ? null : config.keepalive.connections,
      pipelining: 1,
      keepAliveTimeout: config.keepalive.idleTimeoutMs,
      keepAliveMaxTimeout: config.keepalive.idleTimeoutMs,
      headersTimeout: config.timeouts.responseHeaderMs,
      bodyTimeout: config.timeouts.idleMs,
      connect: this.timedConnector(buildConnector({ timeout: config.timeouts.connectMs, noDelay: true })),
    };
  }

  /** undici's connector, timed: connect latency is what a late connection is measured against. */
  private timedConnector(base: buildConnector.connector): buildConnector.connector {
    return (options, callback) => {
      const start = Date.now();
      return base(options, (err, socket) => {
        if (err === null) {
          const now = Date.now();
          this.connectLatency.record(now - start, now);
          noteCorks(socket as Socket);
        }
        callback(err as never, socket as never);
      });
    };
  }

  /**
   * Runs a few times a second: slow-start weights, then the tries that need help — a try still
   * without its connection past the late mark, or a sent try without a response header past the
   * stall mark, gets its peer probed and is reported to its request, which decides whether and
   * where another try goes (a connect hedge, a hedge). A peer that fails its probe is dead: its
   * waiting tries are rescued at once instead of after the response timeout.
   */
  sweep(now: number): void {
    this.table.tick(now);
    if (this.inflight.size === 0) return;
    const { rescue, connectHedge } = this.config;
    // With no recent answers to learn from, the floor alone is the mark.
    const stallMs = Math.max(rescue.minStallMs, rescue.stallFactor * (this.headerLatency.quantile(0.99, now) ?? 0));
    const lateMs = Math.max(connectHedge.minDelayMs, connectHedge.factor * (this.connectLatency.quantile(0.99, now) ?? 0));
    const quietMs = Math.max(QUIET_MIN_MS, QUIET_FACTOR * (this.headerLatency.quantile(0.5, now) ?? rescue.minStallMs));
    for (const t of this.inflight) {
      if (t.settled || t.abandoned || t.request.committed) continue;
      const age = now - t.start;
      // A pod that just vanished or froze goes quiet while the others answer. Until the stall mark
      // every request picked for it would wait there too: under a closed loop all clients end up
      // waiting on it within tens of ms (a black-hole rollout's seconds fell to 43-48 % of the
      // steady rate). So it gets nothing new from the moment it is quiet, and its probe decides.
      if (rescue.enabled && t.connected && !t.stalled && !t.peer.suspect && age > quietMs && this.silent(t.peer, now, quietMs)) this.suspectPeer(t);
      if (!t.connected) {
        if (connectHedge.enabled && !t.late && age > lateMs) {
          t.late = true;
          this.suspectPeer(t);
          t.request.onTryLate(t);
        }
      } else if (rescue.enabled && !t.stalled && (age > stallMs || (age > rescue.minStallMs && this.silent(t.peer, now, rescue.minStallMs)))) {
        t.stalled = true;
        this.suspectPeer(t);
        t.request.onTryStalled(t);
      } else if (t.stalled && t.peer.lastAnswerAt < t.peer.lastProbeOk && now - t.peer.lastProbeOk > stallMs * 2 ** Math.max(0, t.peer.quietProbes - 1)) {
        // Still nothing from the peer since its probe passed. A connect can pass on a pod that is
        // gone (it went after the probe; a kernel's accept queue took the probe) or hung (its
        // kernel still accepts): ask again, by its health path when it has one, less and less
        // often while it stays quiet, so a slow pod costs a handful of probes.
        this.table.suspect(t.peer, now);
        this.probePeer(t.peer, true);
      }
    }
  }

  /**
   * A peer that has answered nothing for `ms` while the service's other peers answer: what a pod
   * that stopped looks like, whatever the service's p99 (which load inflates) says.
   */
  private silent(peer: Peer<Pool>, now: number, ms: number): boolean {
    return now - peer.lastAnswerAt > ms && now - this.lastAnswerAt < ms;
  }

  /**
   * A try is late or stalled: its peer gets no new requests until a probe says it is alive. A
   * probe that passed after the try was sent already answered for it (the pod is slow, not gone).
   */
  private suspectPeer(t: UpstreamTry): void {
    if (t.start <= t.peer.lastProbeOk) return;
    this.table.suspect(t.peer, Date.now());
    this.probePeer(t.peer);
  }

  /**
   * A liveness probe of a suspect peer, one at a time: a connect, then `OPTIONS *` on it, which any
   * HTTP server answers at once and a hung process (its kernel still accepts) does not; or, `again`
   * (it passed but still answers nothing) and with `returnProbe.path` set, a GET of that path.
   */
  probePeer(peer: Peer<Pool>, again = false): void {
    const now = Date.now();
    if (peer.probing) return;
    peer.probing = true;
    const path = this.config.returnProbe.path;
    const http = again && path !== '';
    // A connect takes what connects here usually take; waiting much longer only delays the verdict.
    // Measured connect times include the event loop's delays (a cold start or a burst of connects
    // inflates their tail for the whole 10 s window), which the probe discounts: it reads a
    // connect that arrived while the loop was busy before timing out. Ten times the median covers
    // the network's own spread; the tail would only add the loop's.
    const usual = this.connectLatency.quantile(0.5, now);
    const timeoutMs = usual === null ? this.config.rescue.probeTimeoutMs : Math.min(this.config.rescue.probeTimeoutMs, Math.max(MIN_PROBE_MS, 10 * usual));
    // The answer's timeout follows the service's own response times, within returnProbe.timeout.
    const answers = this.headerLatency.quantile(0.99, now) ?? 0;
    const answerMs = Math.min(this.config.returnProbe.timeoutMs, Math.max(MIN_ANSWER_MS, 2 * answers));
    const verdict = (r: ProbeResult): void => {
      peer.probing = false;
      const now = Date.now();
      this.table.clearSuspect(peer, now);
      if (r.ok) {
        peer.lastProbeOk = now;
        peer.quietProbes++;
        this.counters.probes.ok++;
        return;
      }
      this.counters.probes.failed++;
      // Active, or out on evidence the probe now outweighs (ejectPeer makes it known dead).
      const current = this.table.get(peer.address) === peer && (peer.state === 'active' || peer.autoEjected);
      // Refused or closed at once: the pod closed its listener or is shutting down; out, but its
      // open requests may still finish. No answer (connect or OPTIONS *), or a failed health GET
      // after requests sat unanswered for several stall marks: gone or hung, its tries rescued.
      if (!r.timedOut && !http) {
        if (current) this.table.ejectPeer(peer, r.refused ? 'connect_refused' : 'probe_failed', now, r.detail);
        return;
      }
      if (current) this.table.ejectPeer(peer, 'stalled', now, r.detail);
      this.rescuePeer(peer, r.detail);
    };
    if (http) httpProbe(peer.host, peer.port, path, this.config.returnProbe.timeoutMs, verdict);
    else aliveProbe(peer.host, peer.port, timeoutMs, answerMs, verdict);
  }

  /** Re-sends every try waiting on a dead peer (nothing came back from it, nothing will). */
  private rescuePeer(peer: Peer<Pool>, detail: string): void {
    let rescued = 0;
    for (const t of [...this.inflight]) {
      if (t.peer !== peer || t.settled || t.abandoned || t.headersReceived || t.request.committed) continue;
      t.request.rescueTry(t);
      rescued++;
    }
    if (rescued > 0) {
      this.counters.rescued += rescued;
      this.notify({
        type: 'requests_rescued',
        service: this.name,
        address: peer.address,
        detail: `${rescued} ${rescued === 1 ? 'request' : 'requests'} waiting on ${peer.address} re-sent (${detail})`,
      });
    }
  }

  /** A peer left DNS with requests in flight: if it cannot be reached any more, they are rescued. */
  private probeTerminating(): void {
    for (const peer of this.table.list()) if (peer.state === 'terminating' && peer.inFlight > 0) this.probePeer(peer);
  }

  /** The pool of a peer, made on first use. */
  pool(peer: Peer<Pool>): Pool {
    let pool = peer.handle;
    if (pool === undefined) {
      const origin = peer.host.includes(':') ? `http://[${peer.host}]:${peer.port}` : `http://${peer.host}:${peer.port}`;
      pool = new Pool(origin, this.poolOptions);
      peer.handle = pool;
    }
    return pool;
  }

  /**
   * Peers and their states as the primary decided them (multi-process and in-process alike);
   * `reason`: why DNS gives no pods, when `addresses` is empty.
   */
  setPeers(addresses: readonly string[], states: readonly PeerSync[], now: number, reason?: string | null): void {
    this.emptyReason = addresses.length === 0 ? (reason ?? `DNS name ${this.config.dnsName} lists no addresses`) : null;
    this.table.setAddresses(addresses, now);
    const decided = new Map(states.map((s) => [s.address, s]));
    for (const peer of this.table.list()) {
      if (!peer.listed) continue;
      const s = decided.get(peer.address);
      if (s !== undefined) this.table.sync(s.address, s.state, s.reason, s.until, s.hold, now);
      else if (peer.state !== 'active' && !peer.autoEjected) this.table.sync(peer.address, 'active', 'operator_restore', null, null, now);
    }
    this.probeTerminating();
  }

  /** Cumulative counters for the primary. */
  stats(): ServiceStats {
    const c = this.counters;
    return {
      name: this.name,
      inFlight: c.inFlight,
      requests: c.requests,
      retries: c.retries,
      budgetExhausted: c.budgetExhausted,
      responses: { ...c.responses },
      duration: Array.from(c.duration),
      durationSumMs: c.durationSumMs,
      connectHedges: c.connectHedges,
      hedges: c.hedges,
      rescued: c.rescued,
      probes: { ...c.probes },
      peers: this.table.list().map((p) => ({
        address: p.address,
        inFlight: p.inFlight,
        requests: p.requests,
        retries: p.retries,
        failures: { ...p.failures },
        lastFailure: p.lastFailure,
        latency: padded(p.latency),
      })),
    };
  }

  /** Applies a DNS answer (IPs) as `ip:port` peers; `reason`: why DNS gives none, when `ips` is empty. */
  setAddresses(ips: readonly string[], now: number, reason?: string | null): void {
    const port = this.config.port;
    this.emptyReason = ips.length === 0 ? (reason ?? `DNS name ${this.config.dnsName} lists no addresses`) : null;
    this.table.setAddresses(
      ips.map((ip) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`)),
      now,
    );
    this.probeTerminating();
  }

  /** Why no peer can be picked, in one line for the 503 body. */
  noPeerReason(): string {
    if (this.emptyReason !== null) return `service ${this.name} has no pods: ${this.emptyReason}`;
    const states: Record<string, number> = {};
    for (const p of this.table.list()) states[p.state] = (states[p.state] ?? 0) + 1;
    const summary = Object.entries(states)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    return `no usable peer for service ${this.name} (${summary})`;
  }

  async close(now: number): Promise<void> {
    const pools = this.table
      .list()
      .map((p) => p.handle)
      .filter((p): p is Pool => p !== undefined);
    this.table.clear(now);
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}

function padded(latency: readonly number[]): number[] {
  const out = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  for (let i = 0; i < latency.length; i++) out[i] = latency[i] ?? 0;
  return out;
}
