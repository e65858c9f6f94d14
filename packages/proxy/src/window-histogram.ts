import { LATENCY_BUCKETS_MS, bucketOf } from './messages.js';

const SLOTS = 10;
const WIDTH = LATENCY_BUCKETS_MS.length + 1;

/**
 * Latencies of the last ~10 seconds, in one-second slots of histogram buckets: recording is an
 * increment, a percentile a walk over 150 counters. Slots are reused in place (no allocation).
 */
export class WindowHistogram {
  private readonly counts = new Uint32Array(SLOTS * WIDTH);
  private readonly stamps = new Float64Array(SLOTS).fill(-1);

  record(ms: number, now: number): void {
    const second = Math.floor(now / 1000);
    const slot = second % SLOTS;
    if (this.stamps[slot] !== second) {
      this.counts.fill(0, slot * WIDTH, slot * WIDTH + WIDTH);
      this.stamps[slot] = second;
    }
    const i = slot * WIDTH + bucketOf(ms);
    this.counts[i] = (this.counts[i] as number) + 1;
  }

  /** The q-quantile (0-1) over the window, as the upper bound of its bucket; null without samples. */
  quantile(q: number, now: number): number | null {
    const oldest = Math.floor(now / 1000) - SLOTS + 1;
    let total = 0;
    const sums = new Array<number>(WIDTH).fill(0);
    for (let s = 0; s < SLOTS; s++) {
      if ((this.stamps[s] as number) < oldest) continue;
      for (let b = 0; b < WIDTH; b++) {
        const n = this.counts[s * WIDTH + b] as number;
        sums[b] = (sums[b] as number) + n;
        total += n;
      }
    }
    if (total === 0) return null;
    const rank = q * total;
    let seen = 0;
    for (let b = 0; b < WIDTH; b++) {
      seen += sums[b] as number;
      if (seen >= rank) return LATENCY_BUCKETS_MS[b] ?? 2 * (LATENCY_BUCKETS_MS.at(-1) as number);
    }
    return null;
  }
}
