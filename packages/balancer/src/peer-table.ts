import {
  CONNECT_PHASE_CAUSES,
  type BalancingAlgorithm,
  type FailureCause,
  type PeerEvent,
  type PeerEventType,
  type PeerState,
  type PeerStateReason,
} from '@podgate/protocol';
import { LeastRequest } from './least-request.js';
import { FULL_WEIGHT, KNOWN_DEAD_REASONS, Peer, type PeerHold } from './peer.js';
import type { Picker } from './picker.js';
import { SmoothRoundRobin } from './smooth-round-robin.js';

export interface PeerTableOptions {
  service: string;
  algorithm: BalancingAlgorithm;
  /** Consecutive gateway failures (5xx, response timeouts) that eject a peer; 0 = never. */
  consecutive5xx: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** Past this share of automatically ejected peers, the panic rule routes to them too. */
  maxEjectedPercent: number;
  /** How long an operator hold is remembered for an address gone from DNS. */
  holdRetentionMs?: number;
  /**
   * false: automatic ejections never end here (a data-plane replica follows the primary, which
   * decides returns). Default true.
   */
  autoReturn?: boolean;
  /**
   * Probe only the ejected: when an automatic ejection ends, the peer returns only if this probe
   * passes; a failed probe ejects it again, for longer. Without it, the peer returns at once.
   */
  returnProbe?: (peer: Peer<never>, done: (ok: boolean, detail: string) => void) => void;
  /** New (after the first DNS answer) and returning peers ramp to a full share over this long; 0 = off. */
  slowStartMs?: number;
  random?: () => number;
  onEvent?: (event: PeerEvent) => void;
  /** A peer left the table for good: close what the data plane attached to it. */
  onRemove?: (peer: Peer) => void;
}

export interface PeerSetDiff {
  added: string[];
  removed: string[];
}

/** Causes that mean the pod is dying or gone: eject at once rather than after a threshold. */
const EJECT_AT_ONCE: ReadonlySet<FailureCause> = new Set<FailureCause>([
  ...CONNECT_PHASE_CAUSES,
  'closed_before_header',
  'reset_before_header',
]);

// A drain or eject by hand outlives DNS flaps; an address gone this long has left for good.
const DEFAULT_HOLD_RETENTION_MS = 10 * 60_000;

/**
 * One service's peers and their states (DESIGN.md, "Peer states"). Pure: the caller passes the
 * clock, and the table reports changes through `onEvent`. Picking reads a precomputed array of
 * eligible peers, rebuilt only when a state changes.
 */
export class PeerTable<H = unknown> {
  readonly service: string;
  private readonly options: PeerTableOptions;
  private readonly peers = new Map<string, Peer<H>>();
  private readonly holds = new Map<string, { hold: PeerHold; goneSince: number | null }>();
  /**
   * Known-dead peers that left DNS, until their ejection would have ended: a stale answer (a
   * resolver's cache, one nameserver behind another) that lists the address again brings it back
   * ejected, to return through its probe like any other, not as a fresh active peer.
   */
  private readonly recentlyDead = new Map<string, { until: number; reason: PeerStateReason; ejections: number }>();
  private readonly picker: Picker;
  private eligible: Peer<H>[] = [];
  private panic = false;
  private ramping = 0;
  private suspects = 0;
  /** Peers of the first DNS answer are not ramped: nothing else takes traffic yet. */
  private seeded = false;
  private nextExpiry = Infinity;

  constructor(options: PeerTableOptions) {
    this.options = options;
    this.service = options.service;
    this.picker =
      options.algorithm === 'least_request' ? new LeastRequest(options.random ?? Math.random) : new SmoothRoundRobin();
  }

  get size(): number {
    return this.peers.size;
  }

  get inPanic(): boolean {
    return this.panic;
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
    return [...this.holds].map(([address, h]) => ({ address, hold: h.hold }));
  }

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
        if (!this.relistDead(peer, now)) this.applyListedState(peer, now, 'peer_added');
        diff.added.push(address);
      }
      const hold = this.holds.get(address);
      if (hold !== undefined) hold.goneSince = null;
    }
    for (const peer of this.peers.values()) {
      if (next.has(peer.address) || !peer.listed) continue;
      peer.listed = false;
      diff.removed.push(peer.address);
      // Only where returns are decided (a replica follows what its owner decides for a re-listed peer).
      if (peer.knownDead && this.options.autoReturn !== false) {
        this.recentlyDead.set(peer.address, { until: peer.ejectedUntil as number, reason: peer.reason, ejections: peer.ejections });
      }
      const hold = this.holds.get(peer.address);
      if (hold !== undefined) hold.goneSince = now;
      if (peer.inFlight === 0) this.removePeer(peer, now);
      else this.transition(peer, 'terminating', 'removed_from_dns', now, 'peer_terminating');
    }
    this.forgetOldHolds(now);
    if (next.size > 0) this.seeded = true;
    this.rebuild(now);
    return diff;
  }

  /** How many peers a new request may go to now (0: none is alive that podgate knows of). */
  get usable(): number {
    return this.eligible.length;
  }

  /** The next peer for a request, or null when none is usable (or all usable ones were tried). */
  pick(now: number, tried: readonly Peer<H>[] | null = null): Peer<H> | null {
    if (now >= this.nextExpiry && this.options.autoReturn !== false) this.expireEjections(now);
    return this.picker.pick(this.eligible, tried);
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

  private settle(peer: Peer<H>, now: number): void {
    if (peer.inFlight > 0) return;
    if (peer.state === 'draining') {
      if (peer.drainPending) return;
      this.transition(peer, 'drained', 'operator_drain', now, 'peer_drained');
    } else if (peer.state === 'terminating') {
      this.removePeer(peer, now);
    }
  }

  /** The peer answered with a response that is not a gateway failure. */
  reportSuccess(peer: Peer<H>): void {
    peer.consecutiveFailures = 0;
    if (peer.suspect) this.clearSuspect(peer, Date.now());
  }

  /**
   * A try of this peer stalled or could not get a connection in time: no new requests until its
   * probe says it is alive (or it answers), so the requests that follow do not stall too.
   */
  suspect(peer: Peer<H>, now: number): void {
    if (peer.suspect) return;
    peer.suspect = true;
    this.suspects++;
    this.rebuild(now);
  }

  clearSuspect(peer: Peer<H>, now: number): void {
    if (!peer.suspect) return;
    peer.suspect = false;
    this.suspects--;
    this.rebuild(now);
  }

  /**
   * The peer failed a try. Dying-pod causes eject at once; 5xx and response timeouts eject after
   * `consecutive5xx` in a row. Returns true when this failure ejected the peer.
   */
  reportFailure(peer: Peer<H>, cause: FailureCause, now: number, detail: string): boolean {
    peer.failures[cause] = (peer.failures[cause] ?? 0) + 1;
    peer.lastFailure = { cause, at: now, detail };
    peer.consecutiveFailures++;
    if (peer.state !== 'active') {
      // Picked in panic, it failed again, now showing its pod is gone: known dead from now on.
      return peer.autoEjected && KNOWN_DEAD_REASONS.has(cause as PeerStateReason) && this.ejectPeer(peer, cause as PeerStateReason, now, detail) !== null;
    }
    let reason: PeerStateReason;
    if (EJECT_AT_ONCE.has(cause)) {
      reason = cause as PeerStateReason;
    } else if (this.options.consecutive5xx > 0 && peer.consecutiveFailures >= this.options.consecutive5xx) {
      reason = cause === 'status_5xx' ? 'consecutive_5xx' : 'consecutive_failures';
    } else {
      return false;
    }
    this.ejectPeer(peer, reason, now, detail);
    return true;
  }

  /**
   * Ejects an active peer for `reason` (passive detection, here or reported by another worker).
   * Ejection time is base × ejections so far, capped; returns when it ends.
   */
  ejectPeer(peer: Peer<H>, reason: PeerStateReason, now: number, detail: string): number | null {
    if (peer.state !== 'active') {
      // An ejection on response-level evidence becomes known dead on dead-pod evidence (its time
      // stays); nothing else changes an ejected peer.
      if (peer.autoEjected && !peer.knownDead && KNOWN_DEAD_REASONS.has(reason)) {
        this.transition(peer, 'ejected', reason, now, 'peer_ejected', detail);
        this.rebuild(now);
      }
      return peer.ejectedUntil;
    }
    // Envoy's rule: the multiplier decays once a peer stayed healthy for the longest ejection time.
    if (peer.ejections > 0 && now - peer.lastReturnAt > this.options.maxEjectionMs) peer.ejections = 0;
    peer.ejections++;
    peer.consecutiveFailures = 0;
    peer.ejectedUntil = now + Math.min(this.options.baseEjectionMs * peer.ejections, this.options.maxEjectionMs);
    this.nextExpiry = Math.min(this.nextExpiry, peer.ejectedUntil);
    this.transition(peer, 'ejected', reason, now, 'peer_ejected', detail);
    this.rebuild(now);
    return peer.ejectedUntil;
  }

  /**
   * Takes a peer's state as decided elsewhere (the primary process owns the authoritative table;
   * a worker's replica follows it). Emits no event: the owner already did.
   */
  sync(address: string, state: PeerState, reason: PeerStateReason, until: number | null, hold: PeerHold | null, now: number): void {
    const peer = this.peers.get(address);
    if (peer === undefined || peer.state === 'terminating') return;
    peer.hold = hold;
    if (hold !== null) this.holds.set(address, { hold, goneSince: null });
    else this.holds.delete(address);
    if (peer.state === state && peer.ejectedUntil === until && peer.reason === reason) return;
    if (state === 'ejected' && until !== null && peer.state !== 'ejected') peer.ejections++;
    peer.state = state === 'draining' && peer.inFlight === 0 ? 'drained' : state;
    peer.reason = reason;
    peer.since = now;
    peer.ejectedUntil = state === 'ejected' ? until : null;
    if (until !== null) this.nextExpiry = Math.min(this.nextExpiry, until);
    this.rebuild(now);
  }

  /** Operator: no new requests; in-flight ones finish; stays drained until restored. */
  drain(address: string, now: number): Peer<H> | undefined {
    return this.setHold(address, 'drain', now);
  }

  /** Operator: no new requests until restored, whatever DNS says. */
  eject(address: string, now: number): Peer<H> | undefined {
    return this.setHold(address, 'eject', now);
  }

  /** Operator: clears a hold or an automatic ejection. Repeating it is harmless. */
  restore(address: string, now: number): Peer<H> | undefined {
    this.holds.delete(address);
    const peer = this.peers.get(address);
    if (peer === undefined) return undefined;
    peer.hold = null;
    if (peer.listed && peer.state !== 'active') {
      peer.ejectedUntil = null;
      peer.consecutiveFailures = 0;
      this.transition(peer, 'active', 'operator_restore', now, 'peer_restored');
      this.rebuild(now);
    }
    return peer;
  }

  /** Restores operator holds (from the state file) before the first DNS answer. */
  loadHolds(holds: readonly { address: string; hold: PeerHold }[], now: number): void {
    for (const h of holds) this.holds.set(h.address, { hold: h.hold, goneSince: now });
  }

  /** Ends automatic ejections whose time is up. Also called from pick(); a timer calls it so returns show up live. */
  expireEjections(now: number): void {
    if (this.options.autoReturn === false) return;
    let next = Infinity;
    let changed = false;
    for (const peer of this.peers.values()) {
      if (!peer.autoEjected || peer.probing) continue;
      const until = peer.ejectedUntil as number;
      if (until > now) {
        if (until < next) next = until;
        continue;
      }
      const probe = this.options.returnProbe;
      if (probe === undefined) {
        this.returnPeer(peer, now);
        changed = true;
        continue;
      }
      peer.probing = true;
      probe(peer as Peer<never>, (ok, detail) => this.onReturnProbe(peer, ok, detail));
    }
    this.nextExpiry = next;
    if (changed) this.rebuild(now);
  }

  private onReturnProbe(peer: Peer<H>, ok: boolean, detail: string): void {
    peer.probing = false;
    const now = Date.now();
    if (this.peers.get(peer.address) !== peer || !peer.autoEjected) return;
    if (ok) {
      this.returnPeer(peer, now);
    } else {
      peer.ejections++;
      peer.ejectedUntil = now + Math.min(this.options.baseEjectionMs * peer.ejections, this.options.maxEjectionMs);
      this.nextExpiry = Math.min(this.nextExpiry, peer.ejectedUntil);
      this.transition(peer, 'ejected', 'probe_failed', now, 'peer_ejected', detail);
    }
    this.rebuild(now);
  }

  private returnPeer(peer: Peer<H>, now: number): void {
    peer.ejectedUntil = null;
    peer.lastReturnAt = now;
    this.startRamp(peer, now);
    this.transition(peer, 'active', 'ejection_expired', now, 'peer_returned');
  }

  /**
   * Slow start: weights of ramping peers follow the clock, in tenths of a full share so the picker
   * is reset at most ten times per ramp. Call it a few times a second.
   */
  tick(now: number): void {
    const window = this.options.slowStartMs ?? 0;
    if (window <= 0 || this.ramping === 0) return;
    let changed = false;
    for (const peer of this.peers.values()) {
      if (peer.rampStart === null) continue;
      const share = Math.min(1, (now - peer.rampStart) / window);
      const weight = share >= 1 ? FULL_WEIGHT : Math.max(FULL_WEIGHT / 10, Math.ceil(share * 10) * (FULL_WEIGHT / 10));
      if (share >= 1) {
        peer.rampStart = null;
        this.ramping--;
      }
      if (weight !== peer.weight) {
        peer.weight = weight;
        changed = true;
      }
    }
    if (changed) this.picker.reset(this.eligible);
  }

  private startRamp(peer: Peer<H>, now: number): void {
    if ((this.options.slowStartMs ?? 0) <= 0) return;
    if (peer.rampStart === null) this.ramping++;
    peer.rampStart = now;
    peer.weight = FULL_WEIGHT / 10;
  }

  /** When the next automatic return is due (Infinity when none). */
  get nextReturnAt(): number {
    return this.nextExpiry;
  }

  /** Drops every peer (service removed): the data plane closes their pools. */
  clear(now: number): void {
    for (const peer of [...this.peers.values()]) this.removePeer(peer, now);
    this.rebuild(now);
  }

  private setHold(address: string, hold: PeerHold, now: number): Peer<H> | undefined {
    const peer = this.peers.get(address);
    if (peer === undefined) return undefined;
    const existing = this.holds.get(address);
    this.holds.set(address, { hold, goneSince: existing?.goneSince ?? null });
    if (peer.hold === hold) return peer;
    peer.hold = hold;
    if (peer.listed) {
      peer.ejectedUntil = null;
      this.applyListedState(peer, now, null);
      this.rebuild(now);
    }
    return peer;
  }

  private addPeer(address: string, now: number): void {
    const peer = new Peer<H>(address, now);
    this.peers.set(address, peer);
    const hold = this.holds.get(address);
    peer.hold = hold?.hold ?? null;
    peer.state = 'terminating'; // so applyListedState reports the entry
    if (this.seeded) this.startRamp(peer, now);
    if (!this.relistDead(peer, now)) this.applyListedState(peer, now, 'peer_added');
  }

  /** A known-dead address DNS lists again (recentlyDead): back as ejected, until its probe passes. */
  private relistDead(peer: Peer<H>, now: number): boolean {
    const dead = this.recentlyDead.get(peer.address);
    if (dead === undefined) return false;
    this.recentlyDead.delete(peer.address);
    if (dead.until <= now || peer.hold !== null) return false;
    peer.ejections = dead.ejections;
    peer.ejectedUntil = dead.until;
    this.nextExpiry = Math.min(this.nextExpiry, dead.until);
    this.transition(peer, 'ejected', dead.reason, now, 'peer_added', 'listed again while known dead: returns when its probe passes');
    return true;
  }

  /** State of a listed peer from its hold; `added` names the event when it (re)enters DNS. */
  private applyListedState(peer: Peer<H>, now: number, added: PeerEventType | null): void {
    if (peer.hold === 'eject') {
      this.transition(peer, 'ejected', 'operator_eject', now, added ?? 'peer_ejected');
    } else if (peer.hold === 'drain') {
      if (peer.inFlight > 0 || peer.drainPending) this.transition(peer, 'draining', 'operator_drain', now, added ?? 'peer_draining');
      else this.transition(peer, 'drained', 'operator_drain', now, added ?? 'peer_drained');
    } else if (peer.state === 'terminating' || added === null) {
      this.transition(peer, 'active', 'dns', now, added ?? 'peer_restored');
    }
  }

  private removePeer(peer: Peer<H>, now: number): void {
    this.peers.delete(peer.address);
    if (peer.rampStart !== null) this.ramping--;
    if (peer.suspect) this.suspects--;
    this.emit('peer_removed', peer, 'removed_from_dns', now);
    this.options.onRemove?.(peer as Peer);
  }

  private forgetOldHolds(now: number): void {
    for (const [address, dead] of this.recentlyDead) if (dead.until <= now) this.recentlyDead.delete(address);
    const keep = this.options.holdRetentionMs ?? DEFAULT_HOLD_RETENTION_MS;
    for (const [address, h] of this.holds) {
      if (h.goneSince !== null && now - h.goneSince > keep && !this.peers.has(address)) this.holds.delete(address);
    }
  }

  private transition(
    peer: Peer<H>,
    state: PeerState,
    reason: PeerStateReason,
    now: number,
    event: PeerEventType,
    detail?: string,
  ): void {
    peer.state = state;
    peer.reason = reason;
    peer.since = now;
    this.emit(event, peer, reason, now, detail);
  }

  private emit(type: PeerEventType, peer: Peer<H>, reason: PeerStateReason, at: number, detail?: string): void {
    const onEvent = this.options.onEvent;
    if (onEvent === undefined) return;
    const event: PeerEvent = { type, service: this.service, address: peer.address, state: peer.state, reason, at };
    if (type === 'peer_ejected') event.until = peer.ejectedUntil;
    if (detail !== undefined) event.detail = detail;
    onEvent(event);
  }

  /**
   * Recomputes the eligible set. Panic rule: when automatic ejections leave fewer active peers
   * than (100 − maxEjectedPercent) % of the peers DNS lists and no operator holds, route to the
   * peers ejected on response-level evidence too rather than fail everything (Envoy's healthy
   * panic threshold). Never to known-dead ones: a pod that refuses connections or is gone fails
   * every try sent to it, so routing there turns a retry into a 502 (issue 12: 3,773 of them in 3 s
   * of a rollout whose DNS lagged). With one live peer left, it takes everything.
   */
  private rebuild(now: number): void {
    const active: Peer<H>[] = [];
    const ejected: Peer<H>[] = [];
    let dead = 0;
    for (const peer of this.peers.values()) {
      if (peer.state === 'active') active.push(peer);
      else if (peer.knownDead) dead++;
      else if (peer.autoEjected) ejected.push(peer);
    }
    const base = active.length + ejected.length + dead;
    const minActive = Math.ceil((base * (100 - this.options.maxEjectedPercent)) / 100);
    const panic = ejected.length > 0 && active.length < minActive;
    this.eligible = panic ? active.concat(ejected) : active;
    // Suspects (a try of theirs stalled, their probe is out) get nothing new, unless nothing else is left.
    if (this.suspects > 0) {
      const clear = this.eligible.filter((p) => !p.suspect);
      if (clear.length > 0) this.eligible = clear;
    }
    if (panic !== this.panic) {
      this.panic = panic;
      this.options.onEvent?.({
        type: panic ? 'panic_entered' : 'panic_left',
        service: this.service,
        address: '',
        state: null,
        reason: null,
        at: now,
        detail: panic
          ? `${active.length} of ${base} peers active: also routing to ${ejected.length} ejected on response errors (${ejected.map((p) => p.address).join(', ')})${dead > 0 ? `, never to ${dead} known dead` : ''}`
          : `${active.length} of ${base} peers active`,
      });
    }
    this.picker.reset(this.eligible);
  }
}
