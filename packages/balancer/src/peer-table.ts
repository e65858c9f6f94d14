import type { FailureCause, PeerState, PeerStateReason } from '@podgate/protocol';
import { Ejections } from './ejections.js';
import { EligibleSet } from './eligible-set.js';
import { OperatorHolds } from './operator-holds.js';
import { Peer, type PeerHold } from './peer.js';
import { PeerEvents } from './peer-events.js';
import type { PeerTableOptions } from './peer-table-options.js';
import { SlowStart } from './slow-start.js';

export interface PeerSetDiff {
  added: string[];
  removed: string[];
}

/**
 * One service's peers and their states (DESIGN.md, "Peer states"). Pure: it has no clock, every
 * method that needs the time takes it as `now`, and it reports changes through `onEvent`. It keeps
 * the peers DNS lists and their in-flight counts; picking and the panic rule (eligible-set.ts),
 * automatic ejections and returns (ejections.ts), operator holds (operator-holds.ts) and slow
 * start (slow-start.ts) each keep their own part.
 */
export class PeerTable<H = unknown> {
  readonly service: string;
  private readonly onRemove: ((peer: Peer) => void) | undefined;
  /** false: a replica, whose automatic ejections end when its primary says so. */
  private readonly autoReturn: boolean;
  private readonly peers = new Map<string, Peer<H>>();
  private readonly events: PeerEvents;
  private readonly eligible: EligibleSet<H>;
  private readonly slowStart: SlowStart;
  private readonly ejections: Ejections<H>;
  private readonly holds: OperatorHolds<H>;
  /** Peers of the first DNS answer are not ramped: nothing else takes traffic yet. */
  private seeded = false;

  constructor(options: PeerTableOptions) {
    this.service = options.service;
    this.onRemove = options.onRemove;
    this.autoReturn = options.autoReturn !== false;
    this.events = new PeerEvents(options.service, options.onEvent);
    this.eligible = new EligibleSet(this.peers, options, this.events);
    this.slowStart = new SlowStart(options.slowStartMs ?? 0);
    this.ejections = new Ejections(options, this.peers, this.events, this.eligible, this.slowStart);
    this.holds = new OperatorHolds(this.peers, this.events, this.eligible, options.holdRetentionMs);
  }

  // ---- inspection ----------------------------------------------------------------------------

  get size(): number {
    return this.peers.size;
  }

  get inPanic(): boolean {
    return this.eligible.inPanic;
  }

  /** How many peers a new request may go to now (0: none is alive that podgate knows of). */
  get usable(): number {
    return this.eligible.size;
  }

  /** When the next automatic return is due (Infinity when none). */
  get nextReturnAt(): number {
    return this.ejections.nextReturnAt;
  }

  /** Peers in insertion order, terminating ones included. */
  list(): Peer<H>[] {
    return [...this.peers.values()];
  }

  get(address: string): Peer<H> | undefined {
    return this.peers.get(address);
  }

  /** Operator holds, including those of addresses not in DNS right now (for persistence). */
  listHolds(): { address: string; hold: PeerHold }[] {
    return this.holds.list();
  }

  // ---- DNS -----------------------------------------------------------------------------------

  /** Applies a DNS answer as a diff: peers that stay keep their state and counters. */
  setAddresses(addresses: readonly string[], now: number): PeerSetDiff {
    const next = new Set(addresses);
    const diff: PeerSetDiff = { added: [], removed: [] };
    for (const address of next) {
      const peer = this.peers.get(address);
      if (peer === undefined) {
        this.addPeer(address, now);
        diff.added.push(address);
      } else if (!peer.listed) {
        peer.listed = true;
        if (!this.ejections.relistDead(peer, now)) this.holds.applyListedState(peer, now, 'peer_added');
        diff.added.push(address);
      }
      this.holds.listed(address);
    }
    for (const peer of this.peers.values()) {
      if (next.has(peer.address) || !peer.listed) continue;
      peer.listed = false;
      diff.removed.push(peer.address);
      this.ejections.rememberDead(peer);
      this.holds.gone(peer.address, now);
      if (peer.inFlight === 0) this.removePeer(peer, now);
      else this.events.transition(peer, 'terminating', 'removed_from_dns', now, 'peer_terminating');
    }
    this.ejections.forgetDead(now);
    this.holds.forgetOld(now);
    if (next.size > 0) this.seeded = true;
    this.eligible.rebuild(now);
    return diff;
  }

  /** Drops every peer (service removed): the data plane closes their pools. */
  clear(now: number): void {
    for (const peer of [...this.peers.values()]) this.removePeer(peer, now);
    this.eligible.rebuild(now);
  }

  // ---- requests and tries --------------------------------------------------------------------

  /** The next peer for a request, or null when none is usable (or all usable ones were tried). */
  pick(now: number, tried: readonly Peer<H>[] | null = null): Peer<H> | null {
    if (now >= this.ejections.nextReturnAt && this.autoReturn) this.ejections.expire(now);
    const eligible = this.eligible;
    return eligible.picker.pick(eligible.peers, tried);
  }

  /** A try starts on `peer`. */
  acquire(peer: Peer<H>, isRetry: boolean): void {
    peer.inFlight++;
    peer.requests++;
    if (isRetry) peer.retries++;
  }

  /** A try on `peer` ended (whatever its outcome). */
  release(peer: Peer<H>, now: number): void {
    peer.inFlight--;
    this.settle(peer, now);
  }

  /**
   * In-flight count measured elsewhere (the primary sums its workers' counts): a draining or
   * terminating peer that reached zero moves on, as after its last release.
   */
  setInFlight(peer: Peer<H>, inFlight: number, now: number): void {
    peer.inFlight = inFlight;
    this.settle(peer, now);
  }

  /** The peer answered with a response that is not a gateway failure. */
  reportSuccess(peer: Peer<H>, now: number): void {
    peer.consecutiveFailures = 0;
    if (peer.suspect) this.clearSuspect(peer, now);
  }

  /**
   * The peer failed a try. Dying-pod causes eject at once; 5xx and response timeouts eject after
   * `consecutive5xx` in a row. Returns true when this failure ejected the peer.
   */
  reportFailure(peer: Peer<H>, cause: FailureCause, now: number, detail: string): boolean {
    return this.ejections.reportFailure(peer, cause, now, detail);
  }

  /**
   * A try of this peer stalled or could not get a connection in time: no new requests until its
   * probe says it is alive (or it answers), so the requests that follow do not stall too.
   */
  suspect(peer: Peer<H>, now: number): void {
    if (peer.suspect) return;
    peer.suspect = true;
    this.eligible.rebuild(now);
  }

  clearSuspect(peer: Peer<H>, now: number): void {
    if (!peer.suspect) return;
    peer.suspect = false;
    this.eligible.rebuild(now);
  }

  // ---- ejections and returns -----------------------------------------------------------------

  /**
   * Ejects an active peer for `reason` (passive detection, here or reported by another worker).
   * Ejection time is base × ejections so far, capped; returns when it ends.
   */
  ejectPeer(peer: Peer<H>, reason: PeerStateReason, now: number, detail: string): number | null {
    return this.ejections.eject(peer, reason, now, detail);
  }

  /** Ends automatic ejections whose time is up. Also called from pick(); a timer calls it so returns show up live. */
  expireEjections(now: number): void {
    this.ejections.expire(now);
  }

  /** Slow start: ramping peers' weights follow `now`. Call it a few times a second. */
  tick(now: number): void {
    if (this.slowStart.tick(this.peers, now)) this.eligible.reweigh();
  }

  // ---- operator ------------------------------------------------------------------------------

  /** Operator: no new requests; in-flight ones finish; stays drained until restored. */
  drain(address: string, now: number): Peer<H> | undefined {
    return this.holds.hold(address, 'drain', now);
  }

  /** Operator: no new requests until restored, whatever DNS says. */
  eject(address: string, now: number): Peer<H> | undefined {
    return this.holds.hold(address, 'eject', now);
  }

  /** Operator: clears a hold or an automatic ejection. Repeating it is harmless. */
  restore(address: string, now: number): Peer<H> | undefined {
    return this.holds.restore(address, now);
  }

  /** Restores operator holds (from the state file) before the first DNS answer. */
  loadHolds(holds: readonly { address: string; hold: PeerHold }[], now: number): void {
    this.holds.load(holds, now);
  }

  // ---- replica -------------------------------------------------------------------------------

  /**
   * Takes a peer's state as decided elsewhere (the primary process owns the authoritative table;
   * a worker's replica follows it). Emits no event: the owner already did.
   */
  sync(address: string, state: PeerState, reason: PeerStateReason, until: number | null, hold: PeerHold | null, now: number): void {
    const peer = this.peers.get(address);
    if (peer === undefined || peer.state === 'terminating') return;
    this.holds.follow(peer, hold);
    if (peer.state === state && peer.ejectedUntil === until && peer.reason === reason) return;
    if (state === 'ejected' && until !== null && peer.state !== 'ejected') peer.ejections++;
    peer.state = state === 'draining' && peer.inFlight === 0 ? 'drained' : state;
    peer.reason = reason;
    peer.since = now;
    peer.ejectedUntil = state === 'ejected' ? until : null;
    if (until !== null) this.ejections.watch(until);
    this.eligible.rebuild(now);
  }

  // ---- internals -----------------------------------------------------------------------------

  private settle(peer: Peer<H>, now: number): void {
    if (peer.inFlight > 0) return;
    if (peer.state === 'draining') {
      if (peer.drainPending) return;
      this.events.transition(peer, 'drained', 'operator_drain', now, 'peer_drained');
    } else if (peer.state === 'terminating') {
      this.removePeer(peer, now);
    }
  }

  private addPeer(address: string, now: number): void {
    const peer = new Peer<H>(address, now);
    this.peers.set(address, peer);
    peer.hold = this.holds.holdOf(address);
    peer.state = 'terminating'; // so applyListedState reports the entry
    if (this.seeded) this.slowStart.start(peer, now);
    if (!this.ejections.relistDead(peer, now)) this.holds.applyListedState(peer, now, 'peer_added');
  }

  private removePeer(peer: Peer<H>, now: number): void {
    this.peers.delete(peer.address);
    this.slowStart.forget(peer);
    this.events.emit('peer_removed', peer, 'removed_from_dns', now);
    this.onRemove?.(peer as Peer);
  }
}
