import type { FleetView, PeerAction, PeerStateReason, PeerView, ServiceView } from '@podgate/protocol';
import { redactRedisUrl } from '@podgate/protocol';
import type { Logger } from 'pino';
import { ControlError } from '../control-api.js';
import type { ControlEvents } from '../control-events.js';
import type { OperatorChanges } from '../operator-changes.js';
import type { PeerActions } from '../peer-actions.js';
import type { ChangeOrigin, ServiceCatalog } from '../service-catalog.js';
import type { PeerProvenance } from '../views.js';
import { FleetLink, FleetUnavailableError, type FleetStatus, type InstanceInfo, type InstanceView } from './fleet-link.js';
import { FleetLedger, recordKey, type FleetChange, type FleetRecord } from './fleet-record.js';

export interface FleetSyncOptions {
  redis: string;
  name: string;
  instance: InstanceInfo;
  catalog: ServiceCatalog;
  peerActions: PeerActions;
  changes: OperatorChanges;
  events: ControlEvents;
  logger: Logger;
}

/** The instance's own evidence, for the fleet (its hints), and when it lapses. */
interface LocalHint {
  change: Extract<FleetChange, { kind: 'ejection_hint' }>;
}

/**
 * This instance as one of a fleet: an operator change made here is written to the fleet's Redis
 * first and applied once Redis acknowledged it (refused with 503 while Redis is away, so nothing
 * acknowledged is lost); changes made through other instances are applied as they arrive, the
 * latest version per peer or service winning. Ejections this instance's traffic finds go out as
 * hints, which the others apply at once; each confirms a return with its own probe.
 */
export class FleetSync {
  private readonly o: FleetSyncOptions;
  private readonly ledger = new FleetLedger();
  private readonly link: FleetLink;
  private instances: InstanceView[] = [];
  private readonly localHints = new Map<string, LocalHint>();
  /** Peers ejected here on another instance's hint: which instance, and when (the peer's `since`). */
  private readonly hinted = new Map<string, { instance: string; at: number }>();
  private wasDegraded = false;
  /** The highest version applied here (the ledger may hold later ones still queued). */
  private applied = 0;

  constructor(options: FleetSyncOptions) {
    this.o = options;
    this.link = new FleetLink({
      url: options.redis,
      name: options.name,
      instance: options.instance,
      logger: options.logger,
      onRecords: (records, snapshot) => void this.received(records, snapshot),
      onStatus: (status) => this.statusChanged(status),
      onInstances: (list) => this.instancesChanged(list),
      reseed: () => this.localState(),
    });
    options.logger.info({ fleet: options.name, redis: redactRedisUrl(options.redis), instance: options.instance.id }, 'joining the fleet');
  }

  get self(): string {
    return this.o.instance.id;
  }

  view(): FleetView {
    const s = this.link.fleetStatus;
    const instances = this.instances.length > 0 ? this.instances : [{ ...this.o.instance, self: true }];
    return { name: s.name, state: s.state, since: s.since, error: s.error, version: this.applied, self: this.self, instances };
  }

  /** Who held or ejected a peer, as the fleet's records say. */
  readonly provenance: PeerProvenance = {
    heldBy: (service, address) => {
      const r = this.ledger.get(`hold:${service}|${address}`);
      if (r !== undefined && r.change.kind === 'peer_held') return { actor: r.actor, instance: r.instance, at: r.at };
      const saved = this.o.changes.persisted.holds.find((h) => h.service === service && h.address === address);
      return saved === undefined ? null : { actor: saved.actor, instance: saved.instance ?? this.self, at: saved.at };
    },
    ejectedBy: (service, address) => {
      const h = this.hinted.get(`${service}|${address}`);
      const peer = this.o.catalog.get(service)?.table.get(address);
      return h !== undefined && peer !== undefined && peer.state === 'ejected' && peer.since === h.at ? h.instance : null;
    },
  };

  // ---- operator changes made here ------------------------------------------------------------

  async addService(input: unknown, actor: string): Promise<ServiceView> {
    const service = this.o.catalog.checkNew(input);
    const record = await this.write({ kind: 'service_added', service: service.name, input }, actor);
    if (!this.stands(record)) return this.superseded(`service ${service.name}`);
    const view = await this.o.catalog.addService(input, actor);
    this.markApplied(record);
    return view;
  }

  async removeService(name: string, actor: string): Promise<void> {
    this.o.catalog.checkRemovable(name);
    const record = await this.write({ kind: 'service_removed', service: name }, actor);
    if (!this.stands(record)) return this.superseded(`service ${name}`);
    await this.o.catalog.removeService(name, actor);
    this.markApplied(record);
  }

  async peerAction(service: string, address: string, action: PeerAction, actor: string): Promise<PeerView> {
    this.o.peerActions.check(service, address);
    const change: FleetChange = action === 'restore' ? { kind: 'peer_restored', service, address } : { kind: 'peer_held', service, address, hold: action };
    const record = await this.write(change, actor);
    if (!this.stands(record)) return this.superseded(`peer ${address}`);
    const view = (await this.o.peerActions.apply(service, address, action, actor)) as PeerView;
    this.markApplied(record);
    return view;
  }

  /** This instance's traffic ejected a peer: the others apply it until `until`. */
  hint(service: string, address: string, reason: PeerStateReason, detail: string, until: number): void {
    const change = { kind: 'ejection_hint', service, address, reason, detail, until } as const;
    this.localHints.set(recordKey(change), { change });
    this.publishHint(change);
  }

  async close(): Promise<void> {
    await this.link.close();
  }

  private async write(change: FleetChange, actor: string): Promise<FleetRecord> {
    try {
      return await this.link.publish(change, actor);
    } catch (err) {
      if (err instanceof FleetUnavailableError) throw new ControlError('PODGATE_FLEET_UNAVAILABLE', err.message);
      throw err;
    }
  }

  /**
   * Whether a change written here is still the latest for its key. The stream may bring it back
   * before Redis's answer does (it is then held already); a later version from another instance
   * means that one stands.
   */
  private stands(record: FleetRecord): boolean {
    return this.ledger.accept(record) || this.ledger.get(recordKey(record.change))?.version === record.version;
  }

  /** Records at or below the version applied here are settled (applied, or overtaken by a later one). */
  private markApplied(record: FleetRecord): void {
    if (record.version > this.applied) this.applied = record.version;
  }

  /** A change from another instance with a later version arrived while this one was written: it stands. */
  private superseded(what: string): never {
    throw new ControlError('PODGATE_CONFLICT', `${what} was changed through another instance at the same time, and that later change stands`);
  }

  private publishHint(change: LocalHint['change']): void {
    if (this.link.fleetStatus.state !== 'ok') return; // published when Redis is back (statusChanged)
    this.link.publish(change, 'podgate').then(
      (record) => this.ledger.accept(record),
      (err: unknown) => this.o.logger.debug({ err: (err as Error).message }, 'ejection hint not published; it will be when Redis is back'),
    );
  }

  // ---- changes made elsewhere ----------------------------------------------------------------

  private received(records: FleetRecord[], snapshot: boolean): void {
    const fresh = records.filter((r) => this.ledger.accept(r));
    void this.o.changes.exclusive(async () => {
      if (snapshot && records.length === 0) {
        // A fleet's first instance, or a Redis that starts empty: what this instance holds becomes the fleet's.
        for (const { change, actor } of this.localState()) await this.link.publish(change, actor).then((r) => this.ledger.accept(r));
        return;
      }
      for (const record of fresh) await this.apply(record);
      if (snapshot) await this.dropUnlisted();
      for (const record of records) this.markApplied(record);
      this.o.events.notify({ kind: 'fleet' });
    });
  }

  private async apply(record: FleetRecord): Promise<void> {
    const c = record.change;
    // Queued behind a change made here that got a later version: that one stands.
    if (this.ledger.get(recordKey(c))?.version !== record.version) return;
    const origin: ChangeOrigin | undefined = record.instance === this.self ? undefined : { instance: record.instance, at: record.at };
    try {
      if (c.kind === 'service_added') {
        const existing = this.o.catalog.get(c.service);
        if (existing?.source === 'config') {
          this.o.logger.error(
            { service: c.service, instance: record.instance },
            `service ${c.service} added through instance ${record.instance} has the name of one in this instance's config file: not started here`,
          );
          return;
        }
        const saved = this.o.changes.persisted.services.find((s) => s.name === c.service);
        if (existing !== undefined && saved !== undefined && JSON.stringify(saved.input) === JSON.stringify(c.input)) return;
        if (existing !== undefined) await this.o.catalog.removeService(c.service, record.actor, origin);
        await this.o.catalog.addService(c.input, record.actor, origin);
      } else if (c.kind === 'service_removed') {
        if (this.o.catalog.get(c.service)?.source === 'api') await this.o.catalog.removeService(c.service, record.actor, origin);
      } else if (c.kind === 'peer_held' || c.kind === 'peer_restored') {
        const hold = c.kind === 'peer_held' ? c.hold : null;
        const entry = this.o.catalog.get(c.service);
        const saved = this.o.changes.persisted.holds.find((h) => h.service === c.service && h.address === c.address);
        if (entry === undefined || (saved?.hold ?? null) === hold) return;
        await this.o.peerActions.apply(c.service, c.address, hold ?? 'restore', record.actor, origin ?? { instance: this.self, at: record.at });
      } else if (record.instance !== this.self && c.until > Date.now()) {
        const entry = this.o.catalog.get(c.service);
        const peer = entry?.table.get(c.address);
        if (entry === undefined || peer === undefined || peer.state !== 'active') return;
        const now = Date.now();
        entry.table.ejectPeer(peer, c.reason as PeerStateReason, now, `${c.detail} (found by instance ${record.instance})`);
        this.hinted.set(`${c.service}|${c.address}`, { instance: record.instance, at: peer.since });
      }
    } catch (err) {
      this.o.logger.error(
        { err: (err as Error).message, version: record.version, instance: record.instance },
        `fleet change ${c.kind} for ${c.service} not applied here: ${(err as Error).message}`,
      );
    }
  }

  /** After a snapshot: what this instance holds that the fleet no longer does goes. */
  private async dropUnlisted(): Promise<void> {
    for (const saved of this.o.changes.persisted.services) {
      const r = this.ledger.get(`service:${saved.name}`);
      if (r === undefined || r.change.kind === 'service_removed') {
        if (this.o.catalog.get(saved.name)?.source === 'api')
          await this.o.catalog.removeService(saved.name, r?.actor ?? 'podgate', r === undefined ? undefined : { instance: r.instance, at: r.at });
      }
    }
    for (const saved of this.o.changes.persisted.holds) {
      const r = this.ledger.get(`hold:${saved.service}|${saved.address}`);
      if (r === undefined || r.change.kind === 'peer_restored') {
        await this.o.peerActions.apply(saved.service, saved.address, 'restore', r?.actor ?? 'podgate', {
          instance: r?.instance ?? this.self,
          at: r?.at ?? Date.now(),
        });
      }
    }
  }

  /** What this instance holds, as fleet changes: to write back to a Redis that lost them. */
  private localState(): { change: FleetChange; actor: string }[] {
    const now = Date.now();
    const state: { change: FleetChange; actor: string }[] = [];
    for (const s of this.o.changes.persisted.services) state.push({ change: { kind: 'service_added', service: s.name, input: s.input }, actor: s.actor });
    for (const h of this.o.changes.persisted.holds)
      state.push({ change: { kind: 'peer_held', service: h.service, address: h.address, hold: h.hold }, actor: h.actor });
    for (const { change } of this.localHints.values()) if (change.until > now) state.push({ change, actor: 'podgate' });
    return state;
  }

  private statusChanged(status: FleetStatus): void {
    if (status.state === 'degraded' && !this.wasDegraded) {
      this.wasDegraded = true;
      this.o.events.record({
        type: 'fleet_degraded',
        service: '',
        detail: `Redis unavailable (${status.error ?? 'unknown'}): serving from the last known state; operator changes are refused until it is back`,
      });
    } else if (status.state === 'ok' && this.wasDegraded) {
      this.wasDegraded = false;
      this.o.events.record({ type: 'fleet_recovered', service: '', detail: 'Redis is back: changes replayed, this instance registered again' });
      // Hints that could not go out, or that Redis lost, go out again while they still hold.
      const now = Date.now();
      for (const [key, hint] of this.localHints) {
        if (hint.change.until <= now) this.localHints.delete(key);
        else this.publishHint(hint.change);
      }
    }
    this.o.events.notify({ kind: 'fleet' });
  }

  private instancesChanged(list: InstanceView[]): void {
    const ids = (l: InstanceView[]): string => l.map((i) => i.id).join(',');
    const changed = ids(list) !== ids(this.instances);
    this.instances = list;
    if (changed) this.o.events.notify({ kind: 'fleet' });
  }
}
