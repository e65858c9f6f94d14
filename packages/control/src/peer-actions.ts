import type { Peer, PeerHold } from '@podgate/balancer';
import type { PeerAction, PeerView } from '@podgate/protocol';
import { ControlError } from './control-api.js';
import type { ControlEvents } from './control-events.js';
import type { OperatorChanges } from './operator-changes.js';
import { through, type ChangeOrigin, type ServiceCatalog } from './service-catalog.js';
import type { PeerLatency } from './views.js';
import type { WorkerLinks } from './worker-links.js';

/**
 * Operator drains, ejections and restores of peers: kept in the state file first, then applied.
 * A drain ends on the workers' word: the in-flight counts the primary holds are up to half a
 * second old, so a draining peer is drained only once every worker has reported its count after
 * the barrier that the drain sends.
 */
export class PeerActions {
  private readonly catalog: ServiceCatalog;
  private readonly changes: OperatorChanges;
  private readonly workers: WorkerLinks;
  private readonly events: ControlEvents;
  /** Drains waiting for workers to report their in-flight counts after barrier `seq`. */
  private readonly drainWaits = new Map<Peer<PeerLatency>, { seq: number; pending: Set<number> }>();
  private barrierSeq = 0;

  constructor(catalog: ServiceCatalog, changes: OperatorChanges, workers: WorkerLinks, events: ControlEvents) {
    this.catalog = catalog;
    this.changes = changes;
    this.workers = workers;
    this.events = events;
  }

  /** Throws PODGATE_NOT_FOUND unless the service has the peer. */
  check(service: string, address: string): void {
    const entry = this.catalog.get(service);
    if (entry === undefined) throw new ControlError('PODGATE_NOT_FOUND', `no service named ${service}`);
    if (entry.table.get(address) === undefined) throw new ControlError('PODGATE_NOT_FOUND', `service ${service} has no peer ${address}`);
  }

  /**
   * An operator's action, made here or (`origin`) through another instance of the fleet. One from
   * elsewhere may name a peer this instance's DNS does not list yet: the hold waits for it, as a
   * hold from the state file does.
   */
  async apply(service: string, address: string, action: PeerAction, actor: string, origin?: ChangeOrigin): Promise<PeerView | null> {
    if (origin === undefined) this.check(service, address);
    const entry = this.catalog.get(service);
    if (entry === undefined) return null;
    const persisted = this.changes.persisted;
    const holds = persisted.holds.filter((h) => !(h.service === service && h.address === address));
    const hold: PeerHold | null = action === 'restore' ? null : action;
    const saved = { service, address, at: origin?.at ?? Date.now(), actor };
    if (hold !== null) holds.push(origin === undefined ? { ...saved, hold } : { ...saved, hold, instance: origin.instance });
    await this.changes.persist({ ...persisted, holds });
    const now = Date.now();
    this.events.record({ type: 'operator_action', service, address, actor, detail: `${action} ${address}${through(origin)}` });
    const peer = entry.table.get(address);
    if (peer === undefined) {
      if (hold === null) entry.table.restore(address, now);
      else entry.table.loadHolds([{ address, hold }], now);
      return null;
    }
    this.drainWaits.delete(peer);
    peer.drainPending = false;
    if (action === 'drain') {
      const seq = ++this.barrierSeq;
      if (this.workers.size > 0) {
        this.drainWaits.set(peer, { seq, pending: new Set(this.workers.ids()) });
        peer.drainPending = true;
      }
      entry.table.drain(address, now);
      this.workers.broadcast({ type: 'barrier', seq });
    } else if (action === 'eject') entry.table.eject(address, now);
    else entry.table.restore(address, now);
    return this.catalog.view(service)?.peers.find((p) => p.address === address) ?? null;
  }

  /** Worker `id` reported its counts after barrier `barrier`: the drains sent before it have its word. */
  reported(id: number, barrier: number): void {
    for (const [peer, wait] of this.drainWaits) if (wait.seq <= barrier && wait.pending.delete(id) && wait.pending.size === 0) this.drainConfirmed(peer);
  }

  /** A worker that is gone has nothing in flight: it confirms every drain it was holding up. */
  workerGone(id: number): void {
    for (const [peer, wait] of this.drainWaits) if (wait.pending.delete(id) && wait.pending.size === 0) this.drainConfirmed(peer);
  }

  /** Every worker reported its in-flight count after the drain: the peer may settle as drained. */
  private drainConfirmed(peer: Peer<PeerLatency>): void {
    this.drainWaits.delete(peer);
    peer.drainPending = false;
    for (const [, entry] of this.catalog.entries()) {
      if (entry.table.get(peer.address) === peer) entry.table.setInFlight(peer, peer.inFlight, Date.now());
    }
  }
}
