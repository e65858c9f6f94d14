import type { EventList, EventView, PeerAction, PeerView, PodgateConfig, ServiceConfig, ServiceView } from '@podgate/protocol';
import type { ToPrimary, ToWorker, WorkerStats } from '@podgate/proxy';
import { pino, type Logger } from 'pino';
import type { ControlApi, ControlChange } from './control-api.js';
import { ControlEvents } from './control-events.js';
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

  private constructor(options: ControlPlaneOptions) {
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
    return this.changes.exclusive(() => this.catalog.addService(input, actor));
  }

  removeService(name: string, actor: string): Promise<void> {
    return this.changes.exclusive(() => this.catalog.removeService(name, actor));
  }

  peerAction(service: string, address: string, action: PeerAction, actor: string): Promise<PeerView> {
    return this.changes.exclusive(() => this.peerActions.apply(service, address, action, actor));
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
