import type { PeerEvent, PeerEventType, PeerState, PeerStateReason } from '@podgate/protocol';
import type { Peer } from './peer.js';

/** Moves one service's peers between states, and tells `onEvent` of every move. */
export class PeerEvents {
  private readonly service: string;
  private readonly onEvent: ((event: PeerEvent) => void) | undefined;

  constructor(service: string, onEvent: ((event: PeerEvent) => void) | undefined) {
    this.service = service;
    this.onEvent = onEvent;
  }

  transition(peer: Peer, state: PeerState, reason: PeerStateReason, now: number, event: PeerEventType, detail?: string): void {
    if (event === 'peer_ejected') peer.timesEjected++;
    peer.state = state;
    peer.reason = reason;
    peer.since = now;
    this.emit(event, peer, reason, now, detail);
  }

  emit(type: PeerEventType, peer: Peer, reason: PeerStateReason, at: number, detail?: string): void {
    const onEvent = this.onEvent;
    if (onEvent === undefined) return;
    const event: PeerEvent = { type, service: this.service, address: peer.address, state: peer.state, reason, at };
    if (type === 'peer_ejected') event.until = peer.ejectedUntil;
    if (detail !== undefined) event.detail = detail;
    onEvent(event);
  }

  /**
   * The service entered or left panic (eligible-set.ts): `active` of the listed peers are active,
   * and in panic it also routes to `ejected`, never to `dead` (known dead).
   */
  panic(entered: boolean, at: number, active: number, ejected: readonly Peer[], dead: number): void {
    const onEvent = this.onEvent;
    if (onEvent === undefined) return;
    const base = active + ejected.length + dead;
    const detail = entered
      ? `${active} of ${base} peers active: also routing to ${ejected.length} ejected on response errors (${ejected.map((p) => p.address).join(', ')})${dead > 0 ? `, never to ${dead} known dead` : ''}`
      : `${active} of ${base} peers active`;
    onEvent({ type: entered ? 'panic_entered' : 'panic_left', service: this.service, address: '', state: null, reason: null, at, detail });
  }
}
