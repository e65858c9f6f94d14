import { PeerTable, type PeerHold } from '@podgate/balancer';
import { DnsRefresher } from '@podgate/discovery';
import type { PodgateConfig, ServiceConfig, ServiceView } from '@podgate/protocol';
import { aliveProbe, httpProbe, type ProbeResult } from '@podgate/proxy';
import type { Logger } from 'pino';
import { ControlError } from './control-api.js';
import type { ControlEvents } from './control-events.js';
import type { OperatorChanges } from './operator-changes.js';
import { peersMessage, type ServiceEntry } from './service-entry.js';
import { ServiceReports } from './service-reports.js';
import { routeConflict, sameService } from './service-rules.js';
import { buildServiceView, type PeerLatency, type PeerProvenance } from './views.js';
import type { WorkerLinks } from './worker-links.js';

/**
 * Checks an API-added service with the config file's rules and fills the keys it leaves out from
 * `config` (its service defaults), as for a service in the file; throws
 * ControlError('PODGATE_INVALID', ..., field). Called with the config in force: on add, on
 * start (for the state file's services) and on reload.
 */
export type ParseService = (input: unknown, config: PodgateConfig) => ServiceConfig;

/** A change that reached this instance from another one of its fleet: which, and when it was made. */
export interface ChangeOrigin {
  instance: string;
  at: number;
}

/** `, through instance X` for an event's detail, or nothing for a change made here. */
export function through(origin: ChangeOrigin | undefined): string {
  return origin === undefined ? '' : `, through instance ${origin.instance}`;
}

/**
 * The services the primary runs, from the config file and added through the API: each starts
 * with its peer table and DNS loop, and stops; a config reload restarts those whose config changed.
 */
export class ServiceCatalog {
  private config: PodgateConfig;
  private readonly parseService: ParseService;
  private readonly changes: OperatorChanges;
  private readonly workers: WorkerLinks;
  private readonly events: ControlEvents;
  private readonly logger: Logger;
  private readonly services = new Map<string, ServiceEntry>();
  private readonly reports: ServiceReports;
  /** Outside a fleet the state file knows who held a peer, and when; a fleet knows more (fleet-sync.ts). */
  provenance: PeerProvenance = {
    heldBy: (service, address) => {
      const h = this.changes.persisted.holds.find((x) => x.service === service && x.address === address);
      return h === undefined ? null : { actor: h.actor, instance: h.instance ?? null, at: h.at };
    },
    ejectedBy: () => null,
  };

  constructor(config: PodgateConfig, parseService: ParseService, changes: OperatorChanges, workers: WorkerLinks, events: ControlEvents, logger: Logger) {
    this.config = config;
    this.parseService = parseService;
    this.changes = changes;
    this.workers = workers;
    this.events = events;
    this.logger = logger;
    this.reports = new ServiceReports(this.services, workers, events, logger);
  }

  /** Starts the config file's services, then those added through the API that the state file keeps. */
  start(): void {
    for (const service of this.config.services) this.addEntry(service, 'config');
    for (const saved of this.changes.persisted.services) {
      try {
        const service = this.parseService(saved.input, this.config);
        const conflict = this.conflictOf(service);
        if (conflict !== null) throw new ControlError('PODGATE_CONFLICT', conflict);
        this.addEntry(service, 'api');
      } catch (err) {
        // Kept in the state file, not served: the config file now clashes with it or rules changed.
        this.logger.error({ service: saved.name, err: (err as Error).message }, `service ${saved.name} from the state file was not started`);
      }
    }
  }

  /** Stops every DNS loop. */
  stop(): void {
    for (const entry of this.services.values()) entry.refresher.stop();
  }

  get(name: string): ServiceEntry | undefined {
    return this.services.get(name);
  }

  entries(): IterableIterator<[string, ServiceEntry]> {
    return this.services.entries();
  }

  configs(): ServiceConfig[] {
    return [...this.services.values()].map((e) => e.config);
  }

  view(name: string): ServiceView | null {
    const entry = this.services.get(name);
    if (entry === undefined) return null;
    return buildServiceView(entry.config, entry.source, entry.table, entry.refresher.status(), this.workers.stats(), this.provenance);
  }

  views(): ServiceView[] {
    return [...this.services.keys()].map((name) => this.view(name) as ServiceView);
  }

  /** Every service resolved at least once (or failed trying). */
  allResolved(): boolean {
    for (const e of this.services.values()) if (e.refresher.status().lastRefreshAt === null) return false;
    return true;
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

  /** An API body as a new service: resolved, its name free and its routes clear; throws ControlError otherwise. */
  checkNew(input: unknown): ServiceConfig {
    const service = this.parseService(input, this.config);
    if (this.services.has(service.name)) throw new ControlError('PODGATE_CONFLICT', `service ${service.name} already exists`, 'name');
    const conflict = this.conflictOf(service);
    if (conflict !== null) throw new ControlError('PODGATE_CONFLICT', conflict, 'routes');
    return service;
  }

  /** A service the API may remove (one it added); throws ControlError otherwise. */
  checkRemovable(name: string): ServiceEntry {
    const entry = this.services.get(name);
    if (entry === undefined) throw new ControlError('PODGATE_NOT_FOUND', `no service named ${name}`);
    if (entry.source === 'config') {
      throw new ControlError('PODGATE_CONFLICT', `service ${name} comes from the config file: remove it there and reload`);
    }
    return entry;
  }

  /** Operator: a service from an API body, durable in the state file before it starts. */
  async addService(input: unknown, actor: string, origin?: ChangeOrigin): Promise<ServiceView> {
    const config = this.config;
    let service = this.checkNew(input);
    const persisted = this.changes.persisted;
    const saved = { name: service.name, input, addedAt: origin?.at ?? Date.now(), actor };
    await this.changes.persist({
      ...persisted,
      services: [...persisted.services.filter((s) => s.name !== service.name), origin === undefined ? saved : { ...saved, instance: origin.instance }],
    });
    if (this.config !== config) {
      // A reload came while the state file was written: resolve against the config now in force,
      // as the reload did for the others (it could not see this one yet).
      try {
        service = this.parseService(input, this.config);
      } catch (err) {
        this.logger.error(
          { service: service.name, err: (err as Error).message },
          `service ${service.name} is not valid under the reloaded config; it runs with the previous one until a restart`,
        );
      }
    }
    this.addEntry(service, 'api');
    this.workers.broadcast({ type: 'services', services: this.configs() });
    this.events.record({ type: 'service_added', service: service.name, actor, detail: `dnsName ${service.dnsName}, port ${service.port}${through(origin)}` });
    return this.view(service.name) as ServiceView;
  }

  /** Operator: removes a service added through the API, and its holds, from the state file first. */
  async removeService(name: string, actor: string, origin?: ChangeOrigin): Promise<void> {
    const entry = this.checkRemovable(name);
    const persisted = this.changes.persisted;
    await this.changes.persist({
      ...persisted,
      services: persisted.services.filter((s) => s.name !== name),
      holds: persisted.holds.filter((h) => h.service !== name),
    });
    this.dropEntry(name, entry);
    this.workers.broadcast({ type: 'services', services: this.configs() });
    this.events.record({ type: 'service_removed', service: name, actor, ...(origin === undefined ? {} : { detail: through(origin).slice(2) }) });
  }

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
    for (const saved of this.changes.persisted.services) {
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
    this.workers.broadcast({ type: 'services', services: this.configs() });
    for (const [name, entry] of this.services) this.workers.broadcast(peersMessage(name, entry));
    const changedApi = reResolved === 0 ? '' : `; ${reResolved} added through the API changed with the new defaults`;
    this.events.record({ type: 'config_reloaded', service: '', detail: `${config.services.length} services from the config file${changedApi}` });
  }

  /** Starts a service: its peer table (with the operator holds it had) and its DNS loop. */
  private addEntry(config: ServiceConfig, source: 'config' | 'api', holds?: { address: string; hold: PeerHold }[]): void {
    const table = new PeerTable<PeerLatency>({
      service: config.name,
      algorithm: config.algorithm,
      consecutive5xx: config.ejection.consecutive5xx,
      baseEjectionMs: config.ejection.baseMs,
      maxEjectionMs: config.ejection.maxMs,
      maxEjectedPercent: config.ejection.maxEjectedPercent,
      onEvent: (e) => this.reports.onPeerEvent(e),
      // Probe only the ejected: a peer comes back when it answers, not because time passed.
      returnProbe: (peer, done) => {
        const { path, timeoutMs } = config.returnProbe;
        const report = (r: ProbeResult): void => done(r.ok, r.detail, Date.now());
        // A connect alone passes for a hung process (its kernel accepts): ask it OPTIONS *.
        if (path === '') aliveProbe(peer.host, peer.port, timeoutMs, timeoutMs, report);
        else httpProbe(peer.host, peer.port, path, timeoutMs, report);
      },
    });
    const now = Date.now();
    table.loadHolds(holds ?? this.changes.persisted.holds.filter((h) => h.service === config.name), now);
    const refresher = new DnsRefresher({
      service: config.name,
      dnsName: config.dnsName,
      dns: this.config.dns,
      onAddresses: (ips) => this.reports.onAddresses(config.name, ips),
      onEvent: (e) => this.reports.onDnsEvent(e),
    });
    this.services.set(config.name, { config, source, table, refresher, dnsEventId: null, sentReason: null });
    refresher.start();
    this.events.notify({ kind: 'service', name: config.name });
  }

  private dropEntry(name: string, entry: ServiceEntry): void {
    entry.refresher.stop();
    this.services.delete(name);
    this.reports.forgetService(name);
    this.events.notify({ kind: 'service_removed', name });
  }
}
