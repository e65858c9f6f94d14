import { PeerTable, type Peer, type PeerHold } from '@podgate/balancer';
import { DnsRefresher, type DnsEvent } from '@podgate/discovery';
import type { EventList, EventView, PeerAction, PeerEvent, PeerView, PodgateConfig, ServiceConfig, ServiceView } from '@podgate/protocol';
import { pino, type Logger } from 'pino';
import { ControlError, type ControlApi, type ControlChange } from './control-api.js';
import { EventLog } from './event-log.js';
import { aliveProbe, httpProbe, type ProbeResult } from '@podgate/proxy';
import type { PeerSync, ToPrimary, ToWorker, WorkerStats } from '@podgate/proxy';
import { routeConflict, sameService } from './service-rules.js';
import { EMPTY_STATE, type PersistedState, type StateStorage } from './state-types.js';
import { buildServiceView, PeerLatency } from './views.js';

export interface ControlPlaneOptions {
  config: PodgateConfig;
  /**
   * Checks an API-added service with the config file's rules and fills the keys it leaves out from
   * `config` (its service defaults), as for a service in the file; throws
   * ControlError('PODGATE_INVALID', ..., field). Called with the config in force: on add, on
   * start (for the state file's services) and on reload.
   */
  parseService: (input: unknown, config: PodgateConfig) => ServiceConfig;
  store?: StateStorage | null;
  logger?: Logger;
}

interface ServiceEntry {
  config: ServiceConfig;
  source: 'config' | 'api';
  table: PeerTable<PeerLatency>;
  refresher: DnsRefresher;
  /** Id of the last DNS trouble event recorded, which identical repeats grow (count) instead of adding events. */
  dnsEventId: number | null;
  /** The `reason` of the last peers message (why DNS gives no pods), so a change is sent even when the set is not. */
  sentReason: string | null;
}

interface WorkerLink {
  send: (message: ToWorker) => void;
  stats: WorkerStats | null;
}

// Returns of automatic ejections are checked this often, so they reach workers and the feed promptly.
const EXPIRY_TICK_MS = 100;
// Latency windows take one sample a second.
const LATENCY_TICK_MS = 1000;

/**
 * The primary's view of the world: services (from the config file and the API), one DNS loop
 * each, the authoritative peer tables, the event log and the workers. Workers eject on their own
 * evidence at once and report it; the primary records it and tells every other worker.
 */
export class ControlPlane implements ControlApi {
  readonly logger: Logger;
  private config: PodgateConfig;
  private readonly parseService: (input: unknown, config: PodgateConfig) => ServiceConfig;
  private readonly store: StateStorage | null;
  private readonly services = new Map<string, ServiceEntry>();
  private readonly workers = new Map<number, WorkerLink>();
  /** Drains waiting for workers to report their in-flight counts (see peerActionNow). */
  private readonly drainWaits = new Map<Peer<PeerLatency>, { seq: number; pending: Set<number> }>();
  private barrierSeq = 0;
  private readonly log = new EventLog();
  private readonly listeners = new Set<(change: ControlChange) => void>();
  private persisted: PersistedState;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Operator changes run one at a time: each reads the persisted state the previous one wrote. */
  private mutations: Promise<unknown> = Promise.resolve();

  private constructor(options: ControlPlaneOptions) {
    this.config = options.config;
    this.parseService = options.parseService;
    this.store = options.store ?? null;
    this.logger = options.logger ?? pino({ level: options.config.log.level });
    this.persisted = this.store?.state ?? EMPTY_STATE;
  }

  static async start(options: ControlPlaneOptions): Promise<ControlPlane> {
    const control = new ControlPlane(options);
    for (const service of options.config.services) control.addEntry(service, 'config');
    for (const saved of control.persisted.services) {
      try {
        const service = control.parseService(saved.input, control.config);
        const conflict = control.conflictOf(service);
        if (conflict !== null) throw new ControlError('PODGATE_CONFLICT', conflict);
        control.addEntry(service, 'api');
      } catch (err) {
        // Kept in the state file, not served: the config file now clashes with it or rules changed.
        control.logger.error({ service: saved.name, err: (err as Error).message }, `service ${saved.name} from the state file was not started`);
      }
    }
    control.timers.push(setInterval(() => control.expireEjections(), EXPIRY_TICK_MS));
    control.timers.push(setInterval(() => control.sampleLatency(), LATENCY_TICK_MS));
    for (const t of control.timers) t.unref();
    return control;
  }

  // ---- workers -------------------------------------------------------------------------------

  attachWorker(id: number, send: (message: ToWorker) => void): void {
    this.workers.set(id, { send, stats: null });
    send({ type: 'services', services: this.serviceConfigs() });
    for (const [name, entry] of this.services) send(this.peersMessage(name, entry));
  }

  detachWorker(id: number): void {
    this.workers.delete(id);
    // A worker that is gone has nothing in flight: it confirms every drain it was holding up.
    for (const [peer, wait] of this.drainWaits) if (wait.pending.delete(id) && wait.pending.size === 0) this.drainConfirmed(peer);
  }

  fromWorker(id: number, message: ToPrimary): void {
    if (message.type === 'stats') {
      const link = this.workers.get(id);
      if (link === undefined) return;
      const before = link.stats;
      link.stats = message.stats;
      this.applyInFlight();
      if (message.barrier !== undefined) {
        for (const [peer, wait] of this.drainWaits) if (wait.seq <= message.barrier && wait.pending.delete(id) && wait.pending.size === 0) this.drainConfirmed(peer);
      }
      // Traffic moves no peer state: tell the feed, so the dashboard's rates follow the counters.
      for (const s of message.stats.services) {
        if (!this.services.has(s.name)) continue;
        const prev = before?.services.find((p) => p.name === s.name);
        if (prev === undefined || prev.requests !== s.requests || prev.retries !== s.retries) this.notify({ kind: 'service', name: s.name });
      }
      return;
    }
    if (message.type === 'notice') {
      this.record({ type: message.kind, service: message.service, address: message.address, detail: message.detail });
      return;
    }
    const entry = this.services.get(message.service);
    const peer = entry?.table.get(message.address);
    if (entry === undefined || peer === undefined) return;
    // Active: ejected. Ejected on response-level evidence and now reported gone: known dead (the
    // table's event tells every worker).
    const before = peer.state === 'active' ? null : peer.reason;
    entry.table.ejectPeer(peer, message.reason, message.at, message.detail);
    // Already out (another worker was first): make sure this worker follows the recorded state.
    if (before !== null && peer.reason === before) this.workers.get(id)?.send({ type: 'peer_state', service: message.service, peer: peerSync(peer) });
  }

  // ---- ControlApi ----------------------------------------------------------------------------

  listServices(): ServiceView[] {
    return [...this.services.keys()].map((name) => this.getService(name) as ServiceView);
  }

  getService(name: string): ServiceView | null {
    const entry = this.services.get(name);
    if (entry === undefined) return null;
    return buildServiceView(entry.config, entry.source, entry.table, entry.refresher.status(), this.workerStats());
  }

  addService(input: unknown, actor: string): Promise<ServiceView> {
    return this.exclusive(() => this.addServiceNow(input, actor));
  }

  removeService(name: string, actor: string): Promise<void> {
    return this.exclusive(() => this.removeServiceNow(name, actor));
  }

  peerAction(service: string, address: string, action: PeerAction, actor: string): Promise<PeerView> {
    return this.exclusive(() => this.peerActionNow(service, address, action, actor));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mutations.then(fn, fn);
    this.mutations = run.catch(() => undefined);
    return run;
  }

  private async addServiceNow(input: unknown, actor: string): Promise<ServiceView> {
    const config = this.config;
    let service = this.parseService(input, config);
    if (this.services.has(service.name)) throw new ControlError('PODGATE_CONFLICT', `service ${service.name} already exists`, 'name');
    const conflict = this.conflictOf(service);
    if (conflict !== null) throw new ControlError('PODGATE_CONFLICT', conflict, 'routes');
    await this.persist({
      ...this.persisted,
      services: [...this.persisted.services.filter((s) => s.name !== service.name), { name: service.name, input, addedAt: Date.now(), actor }],
    });
    if (this.config !== config) {
      // A reload came while the state file was written: resolve against the config now in force,
      // as the reload did for the others (it could not see this one yet).
      try {
        service = this.parseService(input, this.config);
      } catch (err) {
        this.logger.error({ service: service.name, err: (err as Error).message }, `service ${service.name} is not valid under the reloaded config; it runs with the previous one until a restart`);
      }
    }
    this.addEntry(service, 'api');
    this.broadcast({ type: 'services', services: this.serviceConfigs() });
    this.record({ type: 'service_added', service: service.name, actor, detail: `dnsName ${service.dnsName}, port ${service.port}` });
    return this.getService(service.name) as ServiceView;
  }

  private async removeServiceNow(name: string, actor: string): Promise<void> {
    const entry = this.services.get(name);
    if (entry === undefined) throw new ControlError('PODGATE_NOT_FOUND', `no service named ${name}`);
    if (entry.source === 'config') {
      throw new ControlError('PODGATE_CONFLICT', `service ${name} comes from the config file: remove it there and reload`);
    }
    await this.persist({
      ...this.persisted,
      services: this.persisted.services.filter((s) => s.name !== name),
      holds: this.persisted.holds.filter((h) => h.service !== name),
    });
    this.dropEntry(name, entry);
    this.broadcast({ type: 'services', services: this.serviceConfigs() });
    this.record({ type: 'service_removed', service: name, actor });
  }

  private async peerActionNow(service: string, address: string, action: PeerAction, actor: string): Promise<PeerView> {
    const entry = this.services.get(service);
    if (entry === undefined) throw new ControlError('PODGATE_NOT_FOUND', `no service named ${service}`);
    if (entry.table.get(address) === undefined) throw new ControlError('PODGATE_NOT_FOUND', `service ${service} has no peer ${address}`);
    const holds = this.persisted.holds.filter((h) => !(h.service === service && h.address === address));
    const hold: PeerHold | null = action === 'restore' ? null : action;
    if (hold !== null) holds.push({ service, address, hold, at: Date.now(), actor });
    await this.persist({ ...this.persisted, holds });
    const now = Date.now();
    this.record({ type: 'operator_action', service, address, actor, detail: `${action} ${address}` });
    const peer = entry.table.get(address) as Peer<PeerLatency>;
    this.drainWaits.delete(peer);
    peer.drainPending = false;
    if (action === 'drain') {
      // The in-flight counts here are up to half a second old: drained only on the workers' word.
      const seq = ++this.barrierSeq;
      if (this.workers.size > 0) {
        this.drainWaits.set(peer, { seq, pending: new Set(this.workers.keys()) });
        peer.drainPending = true;
      }
      entry.table.drain(address, now);
      this.broadcast({ type: 'barrier', seq });
    } else if (action === 'eject') entry.table.eject(address, now);
    else entry.table.restore(address, now);
    const view = this.getService(service)?.peers.find((p) => p.address === address);
    return view as PeerView;
  }

  events(since: number, limit: number): EventList {
    return this.log.since(since, limit);
  }

  latestEvents(count: number): EventView[] {
    return this.log.latest(count);
  }

  subscribe(listener: (change: ControlChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  workerStats(): readonly WorkerStats[] {
    const out: WorkerStats[] = [];
    for (const w of this.workers.values()) if (w.stats !== null) out.push(w.stats);
    return out;
  }

  ready(): boolean {
    if (this.workers.size === 0) return false;
    for (const w of this.workers.values()) if (w.stats === null) return false;
    for (const e of this.services.values()) if (e.refresher.status().lastRefreshAt === null) return false;
    return true;
  }

  // ---- config reload -------------------------------------------------------------------------

  /**
   * SIGHUP: applies a new (already validated) config. Services added through the API keep only
   * what the operator gave (the state file holds their bodies), so they are resolved again against
   * the new config, its service defaults included, like the file's own services: one whose result
   * changed restarts with its operator holds, as a changed service from the file does. If the new
   * config makes one of them invalid, nothing is applied and this throws (PODGATE_INVALID) naming
   * it: the running config stays, as for a bad file.
   */
  reload(config: PodgateConfig): void {
    const apiNext = new Map<string, ServiceConfig>();
    for (const saved of this.persisted.services) {
      if (this.services.get(saved.name)?.source !== 'api') continue;
      try {
        apiNext.set(saved.name, this.parseService(saved.input, config));
      } catch (err) {
        throw new ControlError('PODGATE_INVALID', `service ${saved.name} (added through the API) is not valid under the new config: ${(err as Error).message}`);
      }
    }
    const next = new Map(config.services.map((s) => [s.name, s]));
    for (const [name, entry] of this.services) {
      if (entry.source !== 'config') continue;
      const wanted = next.get(name);
      if (wanted === undefined) this.dropEntry(name, entry);
      else if (!sameService(wanted, entry.config)) {
        const holds = entry.table.listHolds();
        this.dropEntry(name, entry);
        this.addEntry(wanted, 'config', holds);
      }
    }
    for (const service of config.services) if (!this.services.has(service.name)) this.addEntry(service, 'config');
    let reResolved = 0;
    for (const [name, wanted] of apiNext) {
      const entry = this.services.get(name);
      if (entry === undefined || entry.source !== 'api' || sameService(wanted, entry.config)) continue;
      const holds = entry.table.listHolds();
      this.dropEntry(name, entry);
      this.addEntry(wanted, 'api', holds);
      reResolved++;
    }
    this.config = config;
    this.broadcast({ type: 'services', services: this.serviceConfigs() });
    for (const [name, entry] of this.services) this.broadcast(this.peersMessage(name, entry));
    const changedApi = reResolved === 0 ? '' : `; ${reResolved} added through the API changed with the new defaults`;
    this.record({ type: 'config_reloaded', service: '', detail: `${config.services.length} services from the config file${changedApi}` });
  }

  /** Route conflicts with the services running now, as the config file would report them. */
  conflictOf(service: ServiceConfig): string | null {
    for (const [name, entry] of this.services) {
      if (name === service.name) continue;
      const clash = routeConflict(service, entry.config);
      if (clash !== null) return clash;
    }
    return null;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const entry of this.services.values()) entry.refresher.stop();
    this.listeners.clear();
  }

  // ---- internals -----------------------------------------------------------------------------

  private addEntry(config: ServiceConfig, source: 'config' | 'api', holds?: { address: string; hold: PeerHold }[]): void {
    const table = new PeerTable<PeerLatency>({
      service: config.name,
      algorithm: config.algorithm,
      consecutive5xx: config.ejection.consecutive5xx,
      baseEjectionMs: config.ejection.baseMs,
      maxEjectionMs: config.ejection.maxMs,
      maxEjectedPercent: config.ejection.maxEjectedPercent,
      onEvent: (e) => this.onPeerEvent(e),
      // Probe only the ejected: a peer comes back when it answers, not because time passed.
      returnProbe: (peer, done) => {
        const { path, timeoutMs } = config.returnProbe;
        const report = (r: ProbeResult): void => done(r.ok, r.detail);
        // A connect alone passes for a hung process (its kernel accepts): ask it OPTIONS *.
        if (path === '') aliveProbe(peer.host, peer.port, timeoutMs, timeoutMs, report);
        else httpProbe(peer.host, peer.port, path, timeoutMs, report);
      },
    });
    const now = Date.now();
    table.loadHolds(holds ?? this.persisted.holds.filter((h) => h.service === config.name), now);
    const refresher = new DnsRefresher({
      service: config.name,
      dnsName: config.dnsName,
      dns: this.config.dns,
      onAddresses: (ips) => this.onAddresses(config.name, ips),
      onEvent: (e) => this.onDnsEvent(e),
    });
    this.services.set(config.name, { config, source, table, refresher, dnsEventId: null, sentReason: null });
    refresher.start();
    this.notify({ kind: 'service', name: config.name });
  }

  private dropEntry(name: string, entry: ServiceEntry): void {
    entry.refresher.stop();
    this.services.delete(name);
    this.notify({ kind: 'service_removed', name });
  }

  private onAddresses(service: string, ips: readonly string[]): void {
    const entry = this.services.get(service);
    if (entry === undefined) return;
    const port = entry.config.port;
    const addresses = ips.map((ip) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`));
    entry.table.setAddresses(addresses, Date.now());
    this.broadcast(this.peersMessage(service, entry));
    this.checkUrgent(entry);
    this.notify({ kind: 'service', name: service });
  }

  private peersMessage(service: string, entry: ServiceEntry): ToWorker {
    const addresses: string[] = [];
    const states: PeerSync[] = [];
    for (const peer of entry.table.list()) {
      if (!peer.listed) continue;
      addresses.push(peer.address);
      if (peer.state !== 'active') states.push(peerSync(peer));
    }
    entry.sentReason = addresses.length === 0 ? this.emptyReason(entry) : null;
    return { type: 'peers', service, addresses, states, reason: entry.sentReason };
  }

  /** Why DNS gives a service no pods, for the 503 its clients get: not an answer yet, no records, or a failing nameserver. */
  private emptyReason(entry: ServiceEntry): string {
    const dns = entry.refresher.status();
    if (dns.problem !== null) return dns.problem;
    if (dns.condition === 'resolving') return `no DNS answer yet for ${entry.config.dnsName} (still resolving)`;
    return `DNS name ${entry.config.dnsName} lists no addresses`;
  }

  /**
   * Fewer than half of the service's known peers (listed, not held by an operator) alive: DNS is
   * asked about once a second until at least half are alive again, whatever dns.minRefresh says.
   * A service with next to nothing left to send to is worth one query a second, and during a
   * rollout the answer soon lists the replacements. A service DNS lists no pod for is not urgent:
   * nothing died, and DNS's own answer is retried at dns.minRefresh.
   */
  private checkUrgent(entry: ServiceEntry): void {
    let known = 0;
    let alive = 0;
    for (const peer of entry.table.list()) {
      if (!peer.listed || peer.hold !== null) continue;
      known++;
      if (peer.state === 'active') alive++;
    }
    const urgent = known > 0 && alive * 2 < known;
    if (urgent === entry.refresher.urgent) return;
    entry.refresher.setUrgent(urgent);
    const name = entry.config.name;
    if (urgent) this.logger.warn({ service: name, alive, known }, `${name}: ${alive} of ${known} pods alive: re-resolving ${entry.config.dnsName} every second`);
    else this.logger.info({ service: name, alive, known }, `${name}: ${alive} of ${known} pods alive: DNS refreshes back to their usual rhythm`);
    this.notify({ kind: 'service', name });
  }

  private onPeerEvent(e: PeerEvent): void {
    if (e.type === 'peer_ejected') this.logger.warn(e, `peer ${e.address} of ${e.service} ejected: ${e.detail ?? e.reason}`);
    else this.logger.info(e, `${e.type.replace('_', ' ')} ${e.address}`.trim());
    this.record({ type: e.type, service: e.service, address: e.address, state: e.state ?? undefined, reason: e.reason ?? undefined, detail: e.detail });
    const entry = this.services.get(e.service);
    const peer = entry?.table.get(e.address);
    // States decided here reach every worker; DNS membership travels in `peers` messages.
    if (peer !== undefined && e.type !== 'peer_added' && e.type !== 'peer_terminating' && e.type !== 'panic_entered' && e.type !== 'panic_left') {
      this.broadcast({ type: 'peer_state', service: e.service, peer: peerSync(peer) });
    }
    this.notify({ kind: 'service', name: e.service });
    if (e.type === 'peer_ejected' && e.reason !== 'operator_eject') entry?.refresher.refreshSoon();
    if (entry !== undefined) this.checkUrgent(entry);
  }

  private onDnsEvent(e: DnsEvent): void {
    const entry = this.services.get(e.service);
    // Repeats of one cause are logged once (then at debug) and grow one event: a dead nameserver
    // must not flood the log, the event log and the dashboard once a refresh.
    switch (e.type) {
      case 'dns_failed': {
        const detail = `${e.cause}; keeping ${e.keptAddresses} known addresses`;
        this.logger[e.repeat === 1 ? 'warn' : 'debug'](e, `DNS refresh of ${e.service} failed: ${detail}`);
        this.recordDnsTrouble(entry, e, detail);
        break;
      }
      case 'dns_empty': {
        const detail = `${e.cause}; keeping the last known set for ${e.graceRemainingMs} ms`;
        this.logger[e.repeat === 1 ? 'warn' : 'debug'](e, `DNS has no addresses for ${e.service}: ${detail}`);
        this.recordDnsTrouble(entry, e, detail);
        break;
      }
      case 'dns_emptied': {
        const detail = `${e.cause}; no addresses past the grace period`;
        this.logger[e.repeat === 1 ? 'error' : 'debug'](e, `DNS has had no addresses for ${e.service} past the grace period: the service is empty (${e.cause})`);
        this.recordDnsTrouble(entry, e, detail);
        break;
      }
      case 'dns_recovered': {
        const why = [e.failed > 0 ? `${e.failed} refreshes failed` : null, e.empty > 0 ? `${e.empty} found no records` : null].filter((x) => x !== null).join(', ');
        const detail = `resolved again after ${formatMs(e.troubleMs)}: ${why}; last: ${e.lastCause}`;
        this.logger.info(e, `DNS of ${e.service} ${detail}`);
        this.record({ type: 'dns_recovered', service: e.service, detail, durationMs: e.troubleMs, failures: e.failed + e.empty });
        if (entry !== undefined) entry.dnsEventId = null;
        break;
      }
      case 'dns_resolved':
        if (e.changed) this.logger.info({ service: e.service, addresses: e.addresses }, `DNS: ${e.service} has ${e.addresses.length} addresses`);
        break;
    }
    // The set may stay empty while the reason for it changes (no answer yet → nameserver refused).
    if (entry !== undefined && !entry.table.list().some((p) => p.listed) && this.emptyReason(entry) !== entry.sentReason) {
      this.broadcast(this.peersMessage(e.service, entry));
    }
    this.notify({ kind: 'service', name: e.service });
  }

  /** A DNS failure or empty answer: a new event when its cause is new, else the open one counts it. */
  private recordDnsTrouble(entry: ServiceEntry | undefined, e: DnsEvent & { repeat: number }, detail: string): void {
    const at = Date.now();
    if (e.repeat > 1 && entry?.dnsEventId != null) {
      const updated = this.log.update(entry.dnsEventId, { count: e.repeat, lastAt: at, detail });
      if (updated !== null) {
        this.notify({ kind: 'event', event: updated });
        return;
      }
    }
    // A first occurrence, or the open event fell off the log: start one (with the count so far).
    const repeated = e.repeat > 1 ? { count: e.repeat, lastAt: at } : {};
    const full = this.record({ type: e.type, service: e.service, detail, at, ...repeated });
    if (entry !== undefined) entry.dnsEventId = full.id;
  }

  private record(event: Omit<EventView, 'id' | 'at'> & { at?: number }): EventView {
    const clean: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(event)) if (v !== undefined && v !== '') clean[k] = v;
    clean.service = event.service;
    const full = this.log.append({ at: Date.now(), ...clean } as Omit<EventView, 'id'>);
    this.notify({ kind: 'event', event: full });
    return full;
  }

  private notify(change: ControlChange): void {
    for (const listener of this.listeners) listener(change);
  }

  private broadcast(message: ToWorker): void {
    for (const w of this.workers.values()) w.send(message);
  }

  private async persist(next: PersistedState): Promise<void> {
    if (this.store !== null) {
      try {
        await this.store.save(next);
      } catch (err) {
        throw new ControlError('PODGATE_STATE_WRITE_FAILED', `the change could not be saved, so it was not made: ${(err as Error).message}`);
      }
    }
    this.persisted = next;
  }

  private serviceConfigs(): ServiceConfig[] {
    return [...this.services.values()].map((e) => e.config);
  }

  private expireEjections(): void {
    const now = Date.now();
    for (const entry of this.services.values()) if (entry.table.nextReturnAt <= now) entry.table.expireEjections(now);
  }

  /** Every worker reported its in-flight count after the drain: the peer may settle as drained. */
  private drainConfirmed(peer: Peer<PeerLatency>): void {
    this.drainWaits.delete(peer);
    peer.drainPending = false;
    for (const entry of this.services.values()) {
      if (entry.table.get(peer.address) === peer) entry.table.setInFlight(peer, peer.inFlight, Date.now());
    }
  }

  /** Draining and terminating peers move on when no worker has a request on them any more. */
  private applyInFlight(): void {
    const totals = new Map<string, number>();
    for (const stats of this.workerStats()) {
      for (const s of stats.services) for (const p of s.peers) {
        const key = `${s.name} ${p.address}`;
        totals.set(key, (totals.get(key) ?? 0) + p.inFlight);
      }
    }
    const now = Date.now();
    for (const [name, entry] of this.services) {
      for (const peer of entry.table.list()) {
        const n = totals.get(`${name} ${peer.address}`) ?? 0;
        if (n !== peer.inFlight) entry.table.setInFlight(peer, n, now);
      }
    }
  }

  private sampleLatency(): void {
    const sums = new Map<string, number[]>();
    for (const stats of this.workerStats()) {
      for (const s of stats.services) for (const p of s.peers) {
        const key = `${s.name} ${p.address}`;
        const sum = sums.get(key) ?? new Array<number>(p.latency.length).fill(0);
        for (let i = 0; i < p.latency.length; i++) sum[i] = (sum[i] ?? 0) + (p.latency[i] ?? 0);
        sums.set(key, sum);
      }
    }
    for (const [name, entry] of this.services) {
      for (const peer of entry.table.list()) {
        const sum = sums.get(`${name} ${peer.address}`);
        if (sum === undefined) continue;
        peer.handle ??= new PeerLatency();
        peer.handle.window.push(sum);
      }
    }
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function peerSync(peer: Peer<PeerLatency>): PeerSync {
  return { address: peer.address, state: peer.state, reason: peer.reason, until: peer.ejectedUntil, hold: peer.hold };
}
