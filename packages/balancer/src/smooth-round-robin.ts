import type { Peer } from './peer.js';
import type { Picker } from './picker.js';

/**
 * nginx's smooth weighted round robin (ngx_http_upstream_get_peer): every pick adds each peer's
 * weight to its current weight, takes the largest, and subtracts the total from the winner. With
 * weights 5,1,1 it yields a a b a c a a — spread out, not bursty.
 *
 * When all eligible weights are equal (the usual case: no slow start running) the sequence is plain
 * round robin, so a cursor gives the same order in O(1) instead of O(peers).
 */
export class SmoothRoundRobin implements Picker {
  private uniform = true;
  private cursor = 0;

  reset(eligible: readonly Peer[]): void {
    const first = eligible[0]?.weight;
    this.uniform = eligible.every((p) => p.weight === first);
    for (const p of eligible) p.currentWeight = 0;
    if (this.cursor >= eligible.length) this.cursor = 0;
  }

  pick<H>(eligible: readonly Peer<H>[], tried: readonly Peer<H>[] | null): Peer<H> | null {
    const n = eligible.length;
    if (n === 0) return null;
    if (this.uniform) {
      for (let i = 0; i < n; i++) {
        const peer = eligible[this.cursor] as Peer<H>;
        this.cursor = this.cursor + 1 === n ? 0 : this.cursor + 1;
        if (tried === null || !tried.includes(peer)) return peer;
      }
      return null;
    }
    let best: Peer<H> | null = null;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const peer = eligible[i] as Peer<H>;
      if (tried !== null && tried.includes(peer)) continue;
      peer.currentWeight += peer.weight;
      total += peer.weight;
      if (best === null || peer.currentWeight > best.currentWeight) best = peer;
    }
    if (best !== null) best.currentWeight -= total;
    return best;
  }
}
