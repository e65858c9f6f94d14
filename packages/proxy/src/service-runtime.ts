import { Peer, PeerTable } from '@podgate/balancer';
import type { PeerEvent, ServiceConfig } from '@podgate/protocol';
import { Pool } from 'undici';
import { RetryBudget } from './retry-budget.js';
import { LATENCY_BUCKETS_MS, type PeerSync, type ServiceStats } from './control/messages.js';

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
  };
  /** Set when DNS answered but listed no address (explains a 503). */
  emptyReason: string | null = 'no DNS answer yet';
  private readonly poolOptions: Pool.Options;

  constructor(config: ServiceConfig, onEvent: (event: PeerEvent) => void) {
    this.name = config.name;
    this.config = config;
    this.table = new PeerTable<Pool>({
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
      connect: { timeout: config.timeouts.connectMs, noDelay: true },
    };
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

  /** Peers and their states as the primary decided them (multi-process and in-process alike). */
  setPeers(addresses: readonly string[], states: readonly PeerSync[], now: number): void {
    this.emptyReason = addresses.length === 0 ? `DNS name ${this.config.dnsName} lists no addresses` : null;
    this.table.setAddresses(addresses, now);
    const decided = new Map(states.map((s) => [s.address, s]));
    for (const peer of this.table.list()) {
      if (!peer.listed) continue;
      const s = decided.get(peer.address);
      if (s !== undefined) this.table.sync(s.address, s.state, s.reason, s.until, s.hold, now);
      else if (peer.state !== 'active' && !peer.autoEjected) this.table.sync(peer.address, 'active', 'operator_restore', null, null, now);
    }
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

  /** Applies a DNS answer (IPs) as `ip:port` peers. */
  setAddresses(ips: readonly string[], now: number): void {
    const port = this.config.port;
    this.emptyReason = ips.length === 0 ? `DNS name ${this.config.dnsName} lists no addresses` : null;
    this.table.setAddresses(
      ips.map((ip) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`)),
      now,
    );
  }

  readonly retryBudget: RetryBudget;

  /** Why no peer can be picked, in one line for the 503 body. */
  noPeerReason(): string {
    if (this.emptyReason !== null) return `service ${this.name} has no pods: ${this.emptyReason}`;
    const states: Record<string, number> = {};
    for (const p of this.table.list()) states[p.state] = (states[p.state] ?? 0) + 1;
    const summary = Object.entries(states).map(([s, n]) => `${n} ${s}`).join(', ');
    return `no usable peer for service ${this.name} (${summary})`;
  }

  async close(now: number): Promise<void> {
    const pools = this.table.list().map((p) => p.handle).filter((p): p is Pool => p !== undefined);
    this.table.clear(now);
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}

function padded(latency: readonly number[]): number[] {
  const out = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  for (let i = 0; i < latency.length; i++) out[i] = latency[i] ?? 0;
  return out;
}
