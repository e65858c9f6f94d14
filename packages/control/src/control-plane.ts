import type { EventList, EventView, FleetView, PeerAction, PeerView, PodgateConfig, ServiceConfig, ServiceView } from '@podgate/protocol';
import type { ToPrimary, ToWorker, WorkerStats } from '@podgate/proxy';
import { pino, type Logger } from 'pino';
import { ControlError, type ControlApi, type ControlChange } from './control-api.js';
import { ControlEvents } from './control-events.js';
import type { InstanceInfo } from './fleet/fleet-link.js';
import { FleetSync } from './fleet/fleet-sync.js';
import { OperatorChanges } from './operator-changes.js';
import { PeerActions } from './peer-actions.js';
import { ServiceCatalog, type ParseService } from './service-catalog.js';
import { peerSync, peersMessage } from './service-entry.js';
import type { StateStorage } from './state-types.js';
import { PeerLatency } from './views.js';
import { peerKey, WorkerLinks } from './worker-links.js';

export interface ControlPlaneOptions {
  config: PodgateConfig;
  /** Resolves a service added through the API against the config in force (service-catalog.ts). */
  parseService: ParseService;
  store?: StateStorage | null;
  logger?: Logger;
}

// Returns of automatic ejections are checked this often, so they reach workers and the feed promptly.
const EXPIRY_TICK_MS = 100;
// Latency windows take one sample a second.
const LATENCY_TICK_MS = 1000;

/**
 * The primary's view of the world: services (from the config file and the API), one DNS loop
 * each, the authoritative peer tables, the event log and the workers. Workers eject on their own
 * evidence at once and report it; the primary records it and tells every other worker.
 *
 * Its parts: the services and their lifecycle (service-catalog.ts), what their DNS loops and
 * tables report (service-reports.ts), operator peer actions (peer-actions.ts), made durable one
 * at a time (operator-changes.ts), the workers (worker-links.ts) and the event log (control-events.ts).
 */
export class ControlPlane implements ControlApi {
  readonly logger: Logger;
  private readonly eventLog = new ControlEvents();
  private readonly workers = new WorkerLinks();
  private readonly changes: OperatorChanges;
  private readonly catalog: ServiceCatalog;
  private readonly peerActions: PeerActions;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly config: PodgateConfig;
  /** This instance, once its addresses are known (joinFleet). */
  private instance: InstanceInfo | null = null;
  /** With `fleet.redis`: the other instances, through Redis. */
  private fleetSync: FleetSync | null = null;

  private constructor(options: ControlPlaneOptions) {
    this.config = options.config;
    this.logger = options.logger ?? pino({ level: options.config.log.level });
    this.changes = new OperatorChanges(options.store ?? null);
    this.catalog = new ServiceCatalog(options.config, options.parseService, this.changes, this.workers, this.eventLog, this.logger);
    this.peerActions = new PeerActions(this.catalog, this.changes, this.workers, this.eventLog);
  }

  static async start(options: ControlPlaneOptions): Promise<ControlPlane> {
    const control = new ControlPlane(options);
    control.catalog.start();
    control.timers.push(setInterval(() => control.expireEjections(), EXPIRY_TICK_MS));
    control.timers.push(setInterval(() => control.sampleLatency(), LATENCY_TICK_MS));
    for (const t of control.timers) t.unref();
    return control;
  }

  // ---- workers -------------------------------------------------------------------------------

  attachWorker(id: number, send: (message: ToWorker) => void): void {
    this.workers.attach(id, send);
    send({ type: 'services', services: this.catalog.configs() });
    for (const [name, entry] of this.catalog.entries()) send(peersMessage(name, entry));
  }

  detachWorker(id: number): void {
    this.workers.detach(id);
    this.peerActions.workerGone(id);
  }

  fromWorker(id: number, message: ToPrimary): void {
    if (message.type === 'stats') {
      const before = this.workers.swapStats(id, message.stats);
      if (before === undefined) return;
      this.applyInFlight();
      if (message.barrier !== undefined) this.peerActions.reported(id, message.barrier);
      // Traffic moves no peer state: tell the feed, so the dashboard's rates follow the counters.
      for (const s of message.stats.services) {
        if (this.catalog.get(s.name) === undefined) continue;
        const prev = before?.services.find((p) => p.name === s.name);
        if (prev === undefined || prev.requests !== s.requests || prev.retries !== s.retries) this.eventLog.notify({ kind: 'service', name: s.name });
      }
      return;
    }
    if (message.type === 'notice') {
      this.eventLog.record({ type: message.kind, service: message.service, address: message.address, detail: message.detail });
      return;
    }
    const entry = this.catalog.get(message.service);
    const peer = entry?.table.get(message.address);
    if (entry === undefined || peer === undefined) return;
    // Active: ejected. Ejected on response-level evidence and now reported gone: known dead (the
    // table's event tells every worker).
    const before = peer.state === 'active' ? null : peer.reason;
    entry.table.ejectPeer(peer, message.reason, message.at, message.detail);
    // The fleet's other instances stop sending there too, without paying for it in failed tries.
    if (before === null && peer.state === 'ejected') {
      this.fleetSync?.hint(message.service, message.address, message.reason, message.detail, peer.ejectedUntil ?? message.at + entry.config.ejection.baseMs);
    }
    // Already out (another worker was first): make sure this worker follows the recorded state.
    if (before !== null && peer.reason === before) this.workers.send(id, { type: 'peer_state', service: message.service, peer: peerSync(peer) });
  }

  // ---- ControlApi ----------------------------------------------------------------------------

  listServices(): ServiceView[] {
    return this.catalog.views();
  }

  getService(name: string): ServiceView | null {
    return this.catalog.view(name);
  }

  addService(input: unknown, actor: string): Promise<ServiceView> {
    const fleet = this.fleetOrRefuse();
    return this.changes.exclusive(() => (fleet === null ? this.catalog.addService(input, actor) : fleet.addService(input, actor)));
  }

  removeService(name: string, actor: string): Promise<void> {
    const fleet = this.fleetOrRefuse();
    return this.changes.exclusive(() => (fleet === null ? this.catalog.removeService(name, actor) : fleet.removeService(name, actor)));
  }

  peerAction(service: string, address: string, action: PeerAction, actor: string): Promise<PeerView> {
    const fleet = this.fleetOrRefuse();
    // Checked first, so the view exists once the action is applied.
    return this.changes.exclusive(async () =>
      fleet === null ? ((await this.peerActions.apply(service, address, action, actor)) as PeerView) : fleet.peerAction(service, address, action, actor),
    );
  }

  // ---- fleet ---------------------------------------------------------------------------------

  /**
   * Names this instance (its addresses are known once it listens) and, with `fleet.redis`, joins
   * the fleet: registers, reads the fleet's state and follows its changes. Redis being away is not
   * an error: the instance serves from what it knows and joins when Redis is back.
   */
  joinFleet(instance: InstanceInfo): void {
    this.instance = instance;
    if (this.config.fleet.redis === '' || this.fleetSync !== null) return;
    this.fleetSync = new FleetSync({
      redis: this.config.fleet.redis,
      name: this.config.fleet.name,
      instance,
      catalog: this.catalog,
      peerActions: this.peerActions,
      changes: this.changes,
      events: this.eventLog,
      logger: this.logger,
    });
    this.catalog.provenance = this.fleetSync.provenance;
  }

  /** The fleet to write through, null outside one; a fleet member not joined yet refuses writes. */
  private fleetOrRefuse(): FleetSync | null {
    if (this.fleetSync === null && this.config.fleet.redis !== '')
      throw new ControlError('PODGATE_FLEET_UNAVAILABLE', 'this instance has not joined its fleet yet: nothing was changed');
    return this.fleetSync;
  }

  fleet(): FleetView {
    if (this.fleetSync !== null) return this.fleetSync.view();
    const self = this.instance ?? { id: 'podgate', proxy: '', admin: '', version: '', startedAt: 0 };
    return { name: null, state: 'off', since: self.startedAt, error: null, version: 0, self: self.id, instances: [{ ...self, self: true }] };
  }

  events(since: number, limit: number): EventList {
    return this.eventLog.since(since, limit);
  }

  latestEvents(count: number): EventView[] {
    return this.eventLog.latest(count);
  }

  subscribe(listener: (change: ControlChange) => void): () => void {
    return this.eventLog.subscribe(listener);
  }

  workerStats(): readonly WorkerStats[] {
    return this.workers.stats();
  }

  ready(): boolean {
    return this.workers.allReporting() && this.catalog.allResolved();
  }

  // ---- config reload -------------------------------------------------------------------------

  /** SIGHUP: applies a new (already validated) config; throws PODGATE_INVALID and applies nothing when an API-added service no longer fits it (service-catalog.ts). */
  reload(config: PodgateConfig): void {
    this.catalog.reload(config);
  }

  /** Route conflicts with the services running now, as the config file would report them. */
  conflictOf(service: ServiceConfig): string | null {
    return this.catalog.conflictOf(service);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.fleetSync?.close();
    this.catalog.stop();
    this.eventLog.unsubscribeAll();
  }

  // ---- ticks and worker counts ---------------------------------------------------------------

  private expireEjections(): void {
    const now = Date.now();
    for (const [, entry] of this.catalog.entries()) if (entry.table.nextReturnAt <= now) entry.table.expireEjections(now);
  }

  /** Draining and terminating peers move on when no worker has a request on them any more. */
  private applyInFlight(): void {
    const totals = this.workers.inFlight();
    const now = Date.now();
    for (const [name, entry] of this.catalog.entries()) {
      for (const peer of entry.table.list()) {
        const n = totals.get(peerKey(name, peer.address)) ?? 0;
        if (n !== peer.inFlight) entry.table.setInFlight(peer, n, now);
      }
    }
  }

  private sampleLatency(): void {
    const sums = this.workers.latency();
    for (const [name, entry] of this.catalog.entries()) {
      for (const peer of entry.table.list()) {
        const sum = sums.get(peerKey(name, peer.address));
        if (sum === undefined) continue;
        peer.handle ??= new PeerLatency();
        peer.handle.window.push(sum);
      }
    }
  }
}
