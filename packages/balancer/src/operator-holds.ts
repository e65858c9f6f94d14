import type { PeerEventType } from '@podgate/protocol';
import type { EligibleSet } from './eligible-set.js';
import type { Peer, PeerHold } from './peer.js';
import type { PeerEvents } from './peer-events.js';

// A drain or eject by hand outlives DNS flaps; an address gone this long has left for good.
const DEFAULT_HOLD_RETENTION_MS = 10 * 60_000;

/**
 * Operator drains and ejections of one service, by address: kept while the address is out of DNS
 * (a flap), so it is held again when it comes back, and forgotten once it has been gone for good.
 */
export class OperatorHolds<H> {
  private readonly peers: ReadonlyMap<string, Peer<H>>;
  private readonly events: PeerEvents;
  private readonly eligible: EligibleSet<H>;
  private readonly retentionMs: number;
  private readonly holds = new Map<string, { hold: PeerHold; goneSince: number | null }>();

  constructor(peers: ReadonlyMap<string, Peer<H>>, events: PeerEvents, eligible: EligibleSet<H>, retentionMs = DEFAULT_HOLD_RETENTION_MS) {
    this.peers = peers;
    this.events = events;
    this.eligible = eligible;
    this.retentionMs = retentionMs;
  }

  holdOf(address: string): PeerHold | null {
    return this.holds.get(address)?.hold ?? null;
  }

  /** Every hold, including those of addresses not in DNS right now (for persistence). */
  list(): { address: string; hold: PeerHold }[] {
    return [...this.holds].map(([address, h]) => ({ address, hold: h.hold }));
  }

  /** Holds from the state file, before the first DNS answer: out of DNS until it lists them. */
  load(holds: readonly { address: string; hold: PeerHold }[], now: number): void {
    for (const h of holds) this.holds.set(h.address, { hold: h.hold, goneSince: now });
  }

  /** DNS lists the address. */
  listed(address: string): void {
    const hold = this.holds.get(address);
    if (hold !== undefined) hold.goneSince = null;
  }

  /** DNS no longer lists the address. */
  gone(address: string, now: number): void {
    const hold = this.holds.get(address);
    if (hold !== undefined) hold.goneSince = now;
  }

  /** Forgets the holds of addresses gone from the table for longer than the retention. */
  forgetOld(now: number): void {
    for (const [address, h] of this.holds) {
      if (h.goneSince !== null && now - h.goneSince > this.retentionMs && !this.peers.has(address)) this.holds.delete(address);
    }
  }

  /** Takes a hold as decided elsewhere (a replica following its primary). */
  follow(peer: Peer<H>, hold: PeerHold | null): void {
    peer.hold = hold;
    if (hold !== null) this.holds.set(peer.address, { hold, goneSince: null });
    else this.holds.delete(peer.address);
  }

  /** Operator: drain or eject the peer at `address` until restored, whatever DNS says. */
  hold(address: string, hold: PeerHold, now: number): Peer<H> | undefined {
    const peer = this.peers.get(address);
    if (peer === undefined) return undefined;
    const existing = this.holds.get(address);
    this.holds.set(address, { hold, goneSince: existing?.goneSince ?? null });
    if (peer.hold === hold) return peer;
    peer.hold = hold;
    if (peer.listed) {
      peer.ejectedUntil = null;
      this.applyListedState(peer, now, null);
      this.eligible.rebuild(now);
    }
    return peer;
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
      this.events.transition(peer, 'active', 'operator_restore', now, 'peer_restored');
      this.eligible.rebuild(now);
    }
    return peer;
  }

  /** State of a listed peer from its hold; `added` names the event when it (re)enters DNS. */
  applyListedState(peer: Peer<H>, now: number, added: PeerEventType | null): void {
    if (peer.hold === 'eject') {
      this.events.transition(peer, 'ejected', 'operator_eject', now, added ?? 'peer_ejected');
    } else if (peer.hold === 'drain') {
      if (peer.inFlight > 0 || peer.drainPending) this.events.transition(peer, 'draining', 'operator_drain', now, added ?? 'peer_draining');
      else this.events.transition(peer, 'drained', 'operator_drain', now, added ?? 'peer_drained');
    } else if (peer.state === 'terminating' || added === null) {
      this.events.transition(peer, 'active', 'dns', now, added ?? 'peer_restored');
    }
  }
}
