import { CONNECT_PHASE_CAUSES, type FailureCause, type PeerStateReason } from '@podgate/protocol';
import type { EligibleSet } from './eligible-set.js';
import { KNOWN_DEAD_REASONS, type Peer } from './peer.js';
import type { PeerEvents } from './peer-events.js';
import type { PeerTableOptions } from './peer-table-options.js';
import type { SlowStart } from './slow-start.js';

/** Causes that mean the pod is dying or gone: eject at once rather than after a threshold. */
const EJECT_AT_ONCE: ReadonlySet<FailureCause> = new Set<FailureCause>([...CONNECT_PHASE_CAUSES, 'closed_before_header', 'reset_before_header']);

/**
 * Automatic ejections of one service's peers (passive detection, Envoy's outlier detection) and
 * their return: when an ejection's time is up, through the return probe if there is one.
 */
export class Ejections<H> {
  private readonly options: PeerTableOptions;
  private readonly peers: ReadonlyMap<string, Peer<H>>;
  private readonly events: PeerEvents;
  private readonly eligible: EligibleSet<H>;
  private readonly slowStart: SlowStart;
  /**
   * Known-dead peers that left DNS, until their ejection would have ended: a stale answer (a
   * resolver's cache, one nameserver behind another) that lists the address again brings it back
   * ejected, to return through its probe like any other, not as a fresh active peer.
   */
  private readonly recentlyDead = new Map<string, { until: number; reason: PeerStateReason; ejections: number }>();
  private nextExpiry = Infinity;

  constructor(options: PeerTableOptions, peers: ReadonlyMap<string, Peer<H>>, events: PeerEvents, eligible: EligibleSet<H>, slowStart: SlowStart) {
    this.options = options;
    this.peers = peers;
    this.events = events;
    this.eligible = eligible;
    this.slowStart = slowStart;
  }

  /** When the next automatic return is due (Infinity when none). */
  get nextReturnAt(): number {
    return this.nextExpiry;
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
      return peer.autoEjected && KNOWN_DEAD_REASONS.has(cause as PeerStateReason) && this.eject(peer, cause as PeerStateReason, now, detail) !== null;
    }
    let reason: PeerStateReason;
    if (EJECT_AT_ONCE.has(cause)) {
      reason = cause as PeerStateReason;
    } else if (this.options.consecutive5xx > 0 && peer.consecutiveFailures >= this.options.consecutive5xx) {
      reason = cause === 'status_5xx' ? 'consecutive_5xx' : 'consecutive_failures';
    } else {
      return false;
    }
    this.eject(peer, reason, now, detail);
    return true;
  }

  /**
   * Ejects an active peer for `reason` (passive detection, here or reported by another worker).
   * Ejection time is base × ejections so far, capped; returns when it ends.
   */
  eject(peer: Peer<H>, reason: PeerStateReason, now: number, detail: string): number | null {
    if (peer.state !== 'active') {
      // An ejection on response-level evidence becomes known dead on dead-pod evidence (its time
      // stays); nothing else changes an ejected peer.
      if (peer.autoEjected && !peer.knownDead && KNOWN_DEAD_REASONS.has(reason)) {
        this.events.transition(peer, 'ejected', reason, now, 'peer_ejected', detail);
        this.eligible.rebuild(now);
      }
      return peer.ejectedUntil;
    }
    // Envoy's rule: the multiplier decays once a peer stayed healthy for the longest ejection time.
    if (peer.ejections > 0 && now - peer.lastReturnAt > this.options.maxEjectionMs) peer.ejections = 0;
    peer.consecutiveFailures = 0;
    this.ejectFor(peer, reason, now, detail);
    this.eligible.rebuild(now);
    return peer.ejectedUntil;
  }

  /** A peer ejected elsewhere until `until` (a replica following its primary): look again then. */
  watch(until: number): void {
    this.nextExpiry = Math.min(this.nextExpiry, until);
  }

  /** Ends automatic ejections whose time is up. */
  expire(now: number): void {
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
      probe(peer as Peer<never>, (ok, detail, at) => this.onReturnProbe(peer, ok, detail, at));
    }
    this.nextExpiry = next;
    if (changed) this.eligible.rebuild(now);
  }

  /** A known-dead peer left DNS: remembered until its ejection would have ended (recentlyDead). */
  rememberDead(peer: Peer<H>): void {
    // Only where returns are decided (a replica follows what its owner decides for a re-listed peer).
    if (!peer.knownDead || this.options.autoReturn === false) return;
    this.recentlyDead.set(peer.address, { until: peer.ejectedUntil as number, reason: peer.reason, ejections: peer.ejections });
  }

  /** A known-dead address DNS lists again (recentlyDead): back as ejected, until its probe passes. */
  relistDead(peer: Peer<H>, now: number): boolean {
    const dead = this.recentlyDead.get(peer.address);
    if (dead === undefined) return false;
    this.recentlyDead.delete(peer.address);
    if (dead.until <= now || peer.hold !== null) return false;
    peer.ejections = dead.ejections;
    peer.ejectedUntil = dead.until;
    this.watch(dead.until);
    this.events.transition(peer, 'ejected', dead.reason, now, 'peer_added', 'listed again while known dead: returns when its probe passes');
    return true;
  }

  /** Forgets the known dead whose ejection would have ended by `now`. */
  forgetDead(now: number): void {
    for (const [address, dead] of this.recentlyDead) if (dead.until <= now) this.recentlyDead.delete(address);
  }

  /** `now`: when the probe ended, by the probe's caller's clock. */
  private onReturnProbe(peer: Peer<H>, ok: boolean, detail: string, now: number): void {
    peer.probing = false;
    if (this.peers.get(peer.address) !== peer || !peer.autoEjected) return;
    if (ok) this.returnPeer(peer, now);
    else this.ejectFor(peer, 'probe_failed', now, detail);
    this.eligible.rebuild(now);
  }

  /** One more ejection, for base × ejections so far, capped. */
  private ejectFor(peer: Peer<H>, reason: PeerStateReason, now: number, detail: string): void {
    peer.ejections++;
    peer.ejectedUntil = now + Math.min(this.options.baseEjectionMs * peer.ejections, this.options.maxEjectionMs);
    this.watch(peer.ejectedUntil);
    this.events.transition(peer, 'ejected', reason, now, 'peer_ejected', detail);
  }

  private returnPeer(peer: Peer<H>, now: number): void {
    peer.ejectedUntil = null;
    peer.lastReturnAt = now;
    this.slowStart.start(peer, now);
    this.events.transition(peer, 'active', 'ejection_expired', now, 'peer_returned');
  }
}
