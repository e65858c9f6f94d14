import { LATENCY_BUCKETS_MS } from '@podgate/proxy';

const SLOTS = 60;

/**
 * p50/p99 over the last minute from cumulative bucket counts: one snapshot a second in a ring,
 * the window is the newest minus the oldest. Percentiles interpolate inside a bucket.
 */
export class LatencyWindow {
  private readonly ring: number[][] = [];

  push(cumulative: readonly number[]): void {
    this.ring.push([...cumulative]);
    if (this.ring.length > SLOTS) this.ring.shift();
  }

  percentiles(): { p50: number; p99: number } | null {
    const newest = this.ring.at(-1);
    const oldest = this.ring[0];
    if (newest === undefined || oldest === undefined) return null;
    const counts = newest.map((n, i) => n - (this.ring.length > 1 ? (oldest[i] ?? 0) : 0));
    const total = counts.reduce((a, b) => a + b, 0);
    if (total === 0) return null;
    return { p50: quantile(counts, total, 0.5), p99: quantile(counts, total, 0.99) };
  }
}

function quantile(counts: readonly number[], total: number, q: number): number {
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (seen + c >= rank && c > 0) {
      const lo = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] as number);
      const hi = LATENCY_BUCKETS_MS[i] ?? lo * 2;
      return Math.round((lo + ((hi - lo) * (rank - seen)) / c) * 10) / 10;
    }
    seen += c;
  }
  return LATENCY_BUCKETS_MS.at(-1) as number;
}
