import type { Peer } from './peer.js';
import type { Picker } from './picker.js';

/**
 * Least request by the power of two choices (Mitzenmacher; Envoy's LEAST_REQUEST default): sample
 * two distinct peers at random and take the one with fewer requests in flight per unit of weight.
 * O(1) per pick whatever the number of peers, and it avoids the herd that a global minimum causes.
 */
export class LeastRequest implements Picker {
  constructor(private readonly random: () => number) {}

  reset(): void {}

  pick<H>(eligible: readonly Peer<H>[], tried: readonly Peer<H>[] | null): Peer<H> | null {
    const n = eligible.length;
    if (n === 0) return null;
    if (n === 1) {
      const only = eligible[0] as Peer<H>;
      return tried !== null && tried.includes(only) ? null : only;
    }
    const a = this.sample(eligible, tried, null);
    if (a === null) return null;
    const b = this.sample(eligible, tried, a);
    if (b === null) return a;
    return b.inFlight * a.weight < a.inFlight * b.weight ? b : a;
  }

  /** A random untried peer other than `not`; falls back to a scan when sampling keeps hitting tried ones. */
  private sample<H>(eligible: readonly Peer<H>[], tried: readonly Peer<H>[] | null, not: Peer<H> | null): Peer<H> | null {
    const n = eligible.length;
    for (let attempt = 0; attempt < 4; attempt++) {
      const peer = eligible[Math.floor(this.random() * n)] as Peer<H>;
      if (peer !== not && (tried === null || !tried.includes(peer))) return peer;
    }
    const start = Math.floor(this.random() * n);
    for (let i = 0; i < n; i++) {
      const peer = eligible[(start + i) % n] as Peer<H>;
      if (peer !== not && (tried === null || !tried.includes(peer))) return peer;
    }
    return null;
  }
}
