import type { PeerState, PeerStateReason } from './peer-state.js';

export type PeerEventType =
  | 'peer_added'
  | 'peer_removed'
  | 'peer_terminating'
  | 'peer_ejected'
  | 'peer_returned'
  | 'peer_draining'
  | 'peer_drained'
  | 'peer_restored'
  | 'panic_entered'
  | 'panic_left';

/** A change in one service's peer table, as the balancer reports it. */
export interface PeerEvent {
  type: PeerEventType;
  service: string;
  /** `host:port`; empty for service-wide events (panic). */
  address: string;
  state: PeerState | null;
  reason: PeerStateReason | null;
  at: number;
  /** For ejections: when it returns by itself (null = only an operator restores it). */
  until?: number | null;
  /** The failure behind an ejection, in nginx's words. */
  detail?: string;
}
