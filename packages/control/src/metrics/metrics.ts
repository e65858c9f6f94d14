import { KNOWN_DEAD_REASONS } from '@podgate/balancer';
import { PEER_STATES, type PeerStateReason } from '@podgate/protocol';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ControlApi, ControlChange } from '../control-api.js';
import { LATENCY_BUCKETS_MS } from '@podgate/proxy';
import { LoadedHistogram } from './metrics-histogram.js';
import { mergeStats, type MergedPeer } from './metrics-merge.js';

/*
 * /metrics: Prometheus text, merged across workers. Every value is set again from the control
 * plane's current numbers at each scrape (metrics are reset first), so a service or peer that
 * left takes its label sets with it. Ejections are the one count kept here, from the event feed.
 */

const DNS_RESULTS = ['resolved', 'failed', 'empty'] as const;

export class PodgateMetrics {
  readonly contentType: string;
  private readonly control: ControlApi;
  private readonly registry = new Registry();
  private unsubscribe: (() => void) | null;
  /** peer_ejected events by service, then reason: counted from construction on. */
  private readonly ejectionCounts = new Map<string, Map<string, number>>();
  /** Last `ok` tries written per `service\0peer` (see okTries). */
  private lastOk = new Map<string, number>();

  private readonly requests: Counter<'service' | 'status'>;
  private readonly tries: Counter<'service' | 'peer' | 'outcome'>;
  private readonly retries: Counter<'service'>;
  private readonly budgetExhausted: Counter<'service'>;
  private readonly ejections: Counter<'service' | 'reason'>;
  private readonly peers: Gauge<'service' | 'state'>;
  private readonly knownDead: Gauge<'service'>;
  private readonly panic: Gauge<'service'>;
  private readonly duration: LoadedHistogram<'service'>;
  private readonly dnsRefreshes: Counter<'service' | 'result'>;
  private readonly dnsLastSuccess: Gauge<'service'>;
  private readonly inFlight: Gauge<'service'>;
  private readonly connectHedges: Counter<'service'>;
  private readonly hedges: Counter<'service'>;
  private readonly rescued: Counter<'service'>;
  private readonly probes: Counter<'service' | 'result'>;
  private readonly front: Gauge<'front'>;
  private readonly fleetState: Gauge<'fleet' | 'state'>;
  private readonly fleetInstances: Gauge<'fleet'>;
  private readonly fleetVersion: Gauge<'fleet'>;

  constructor(control: ControlApi) {
    this.control = control;
    this.contentType = this.registry.contentType;
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'podgate_requests_total',
      help: 'Responses sent to clients, by service and status code.',
      labelNames: ['service', 'status'],
      registers,
    });
    this.tries = new Counter({
      name: 'podgate_upstream_tries_total',
      help: 'Finished tries on an upstream peer, by outcome: ok or the failure cause.',
      labelNames: ['service', 'peer', 'outcome'],
      registers,
    });
    this.retries = new Counter({
      name: 'podgate_retries_total',
      help: 'Tries that retried a request first tried on another peer.',
      labelNames: ['service'],
      registers,
    });
    this.budgetExhausted = new Counter({
      name: 'podgate_retry_budget_exhausted_total',
      help: 'Retries refused because the retry budget was spent.',
      labelNames: ['service'],
      registers,
    });
    this.ejections = new Counter({
      name: 'podgate_ejections_total',
      help: 'Peers ejected, by reason (automatic or operator).',
      labelNames: ['service', 'reason'],
      registers,
    });
    this.peers = new Gauge({ name: 'podgate_peers', help: 'Peers by state.', labelNames: ['service', 'state'], registers });
    this.knownDead = new Gauge({
      name: 'podgate_peers_known_dead',
      help: 'Ejected peers known to be gone (refused, connect timeout, reset, failed probe): never picked, panic or not.',
      labelNames: ['service'],
      registers,
    });
    this.panic = new Gauge({
      name: 'podgate_panic',
      help: '1 while the panic rule routes to peers ejected on response errors (never to known-dead ones).',
      labelNames: ['service'],
      registers,
    });
    this.duration = new LoadedHistogram({
      name: 'podgate_request_duration_seconds',
      help: 'Whole-request duration, from the request to the end of the response.',
      labelNames: ['service'],
      upperBounds: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
    });
    this.registry.registerMetric(this.duration.asMetric());
    this.dnsRefreshes = new Counter({ name: 'podgate_dns_refreshes_total', help: 'DNS refreshes by result.', labelNames: ['service', 'result'], registers });
    this.dnsLastSuccess = new Gauge({
      name: 'podgate_dns_last_success_timestamp_seconds',
      help: 'Time of the last successful DNS refresh (0: none yet).',
      labelNames: ['service'],
      registers,
    });
    this.inFlight = new Gauge({ name: 'podgate_in_flight_requests', help: 'Client requests in flight.', labelNames: ['service'], registers });
    this.connectHedges = new Counter({
      name: 'podgate_connect_hedges_total',
      help: 'Tries moved to another peer because their connection was late (connectHedge).',
      labelNames: ['service'],
      registers,
    });
    this.hedges = new Counter({
      name: 'podgate_hedges_total',
      help: 'Twins sent to another peer while a stalled try still waited (hedge.methods).',
      labelNames: ['service'],
      registers,
    });
    this.rescued = new Counter({
      name: 'podgate_rescued_total',
      help: 'Tries re-sent because their peer was found dead before it answered.',
      labelNames: ['service'],
      registers,
    });
    this.probes = new Counter({
      name: 'podgate_probes_total',
      help: 'Liveness probes of suspect peers, by result.',
      labelNames: ['service', 'result'],
      registers,
    });
    this.front = new Gauge({
      name: 'podgate_front',
      help: "The front serving clients (docs/http-front.md): 1 for the one the data plane runs (native, or node when node's parser failed podgate's self-test), 0 for the other.",
      labelNames: ['front'],
      registers,
    });
    this.fleetState = new Gauge({
      name: 'podgate_fleet_state',
      help: 'The fleet as this instance sees it (docs/fleet.md): 1 for its state (connecting, ok, degraded: Redis away, operator changes refused), 0 for the others. Absent outside a fleet.',
      labelNames: ['fleet', 'state'],
      registers,
    });
    this.fleetInstances = new Gauge({
      name: 'podgate_fleet_instances',
      help: 'Instances of the fleet registered and heartbeating, this one included.',
      labelNames: ['fleet'],
      registers,
    });
    this.fleetVersion = new Gauge({
      name: 'podgate_fleet_version',
      help: 'The highest fleet change version applied here: instances that agree show the same.',
      labelNames: ['fleet'],
      registers,
    });
    this.unsubscribe = control.subscribe((change) => this.onChange(change));
  }

  async render(): Promise<string> {
    this.update();
    return this.registry.metrics();
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private onChange(change: ControlChange): void {
    if (change.kind === 'service_removed') {
      this.ejectionCounts.delete(change.name);
    } else if (change.kind === 'event' && change.event.type === 'peer_ejected') {
      const { service, reason = 'unknown' } = change.event;
      let byReason = this.ejectionCounts.get(service);
      if (byReason === undefined) {
        byReason = new Map();
        this.ejectionCounts.set(service, byReason);
      }
      byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    }
  }

  private update(): void {
    const services = mergeStats(this.control.listServices(), this.control.workerStats());
    for (const metric of [
      this.requests,
      this.tries,
      this.retries,
      this.budgetExhausted,
      this.ejections,
      this.peers,
      this.knownDead,
      this.panic,
      this.duration,
      this.dnsRefreshes,
      this.dnsLastSuccess,
      this.inFlight,
      this.connectHedges,
      this.hedges,
      this.rescued,
      this.probes,
    ]) {
      metric.reset();
    }
    const lastOk = new Map<string, number>();
    for (const s of services.values()) {
      const service = s.name;
      for (const [status, n] of s.responses) this.requests.inc({ service, status }, n);
      for (const peer of s.peers.values()) {
        this.tries.inc({ service, peer: peer.address, outcome: 'ok' }, this.okTries(service, peer, lastOk));
        for (const [outcome, n] of peer.failures) this.tries.inc({ service, peer: peer.address, outcome }, n);
      }
      this.retries.inc({ service }, s.retries);
      this.budgetExhausted.inc({ service }, s.budgetExhausted);
      this.duration.set({ service }, s.duration, s.durationSumMs / 1000);
      this.inFlight.set({ service }, s.inFlight);
      this.connectHedges.inc({ service }, s.connectHedges);
      this.hedges.inc({ service }, s.hedges);
      this.rescued.inc({ service }, s.rescued);
      this.probes.inc({ service, result: 'ok' }, s.probes.ok);
      this.probes.inc({ service, result: 'failed' }, s.probes.failed);
      if (s.view !== null) {
        const byState = new Map<string, number>(PEER_STATES.map((state) => [state, 0]));
        for (const peer of s.view.peers) byState.set(peer.state, (byState.get(peer.state) ?? 0) + 1);
        for (const [state, n] of byState) this.peers.set({ service, state }, n);
        this.knownDead.set(
          { service },
          s.view.peers.filter((p) => p.state === 'ejected' && p.hold === null && KNOWN_DEAD_REASONS.has(p.reason as PeerStateReason)).length,
        );
        this.panic.set({ service }, s.view.panic ? 1 : 0);
        const dns = s.view.dns;
        for (const result of DNS_RESULTS) this.dnsRefreshes.inc({ service, result }, dns.refreshes[result]);
        this.dnsLastSuccess.set({ service }, dns.lastSuccessAt === null ? 0 : dns.lastSuccessAt / 1000);
      }
    }
    this.lastOk = lastOk;
    const fronts = new Set(this.control.workerStats().map((w) => w.front));
    for (const front of ['native', 'node'] as const) this.front.set({ front }, fronts.has(front) ? 1 : 0);
    const fleet = this.control.fleet();
    for (const metric of [this.fleetState, this.fleetInstances, this.fleetVersion]) metric.reset();
    if (fleet.name !== null) {
      for (const state of ['connecting', 'ok', 'degraded'] as const) this.fleetState.set({ fleet: fleet.name, state }, fleet.state === state ? 1 : 0);
      this.fleetInstances.set({ fleet: fleet.name }, fleet.instances.length);
      this.fleetVersion.set({ fleet: fleet.name }, fleet.version);
    }
    for (const [service, byReason] of this.ejectionCounts) {
      for (const [reason, n] of byReason) this.ejections.inc({ service, reason }, n);
    }
  }

  /**
   * Tries that ended without a failure: requests − in flight − failures. A 5xx counts as a failure
   * when its header arrives, but its try is released only once the body was read or discarded, so
   * meanwhile the difference dips by at most the peer's in-flight count. A counter that goes down
   * reads as a restart to Prometheus (rate() then jumps by the whole value), so such a dip keeps
   * the last value; a larger drop (a worker restarted) goes through.
   */
  private okTries(service: string, peer: MergedPeer, next: Map<string, number>): number {
    let failed = 0;
    for (const n of peer.failures.values()) failed += n;
    let ok = Math.max(0, peer.requests - peer.inFlight - failed);
    const key = `${service}\u0000${peer.address}`;
    const last = this.lastOk.get(key);
    if (last !== undefined && ok < last && last - ok <= peer.inFlight) ok = last;
    next.set(key, ok);
    return ok;
  }
}
