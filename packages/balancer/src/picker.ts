import type { Peer } from './peer.js';

/**
 * Chooses one peer among the eligible ones, skipping those this request already tried.
 * `eligible` only changes when a peer changes state, so pickers may keep state about it.
 */
export interface Picker {
  pick<H>(eligible: readonly Peer<H>[], tried: readonly Peer<H>[] | null): Peer<H> | null;
  /** The eligible set or a weight changed. */
  reset(eligible: readonly Peer[]): void;
}
