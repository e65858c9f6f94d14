/**
 * Peer states, as in DESIGN.md:
 * - active: listed by DNS, takes new requests;
 * - ejected: passive detection (or an operator, then with no automatic return) took it out;
 * - draining: operator asked; in-flight requests finish, no new ones; becomes drained at 0 in-flight;
 * - drained: stays out until an operator restores it;
 * - terminating: gone from DNS; removed when its in-flight requests end.
 */
export const PEER_STATES = ['active', 'ejected', 'draining', 'drained', 'terminating'] as const;
export type PeerState = (typeof PEER_STATES)[number];

/** Why a peer is in its state. */
export type PeerStateReason =
  | 'dns'
  | 'connect_refused'
  | 'connect_timeout'
  | 'connect_unreachable'
  | 'closed_before_header'
  | 'reset_before_header'
  | 'header_timeout'
  | 'invalid_header'
  | 'consecutive_5xx'
  | 'consecutive_failures'
  | 'operator_drain'
  | 'operator_eject'
  | 'operator_restore'
  | 'ejection_expired'
  | 'probe_failed'
  | 'stalled'
  | 'removed_from_dns';

export type BalancingAlgorithm = 'round_robin' | 'least_request';
