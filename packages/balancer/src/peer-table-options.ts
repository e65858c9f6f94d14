import type { BalancingAlgorithm, PeerEvent } from '@podgate/protocol';
import type { Peer } from './peer.js';

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
   * `now` is when the probe ended, by the caller's clock: the table has none of its own.
   */
  returnProbe?: (peer: Peer<never>, done: (ok: boolean, detail: string, now: number) => void) => void;
  /** New (after the first DNS answer) and returning peers ramp to a full share over this long; 0 = off. */
  slowStartMs?: number;
  random?: () => number;
  onEvent?: (event: PeerEvent) => void;
  /** A peer left the table for good: close what the data plane attached to it. */
  onRemove?: (peer: Peer) => void;
}
