import { describe, expect, it } from 'vitest';
import { maxOf, valueScale } from '../src/lib/chart-scale.js';
import { formatLatency, formatRate } from '../src/lib/format.js';

/** A label read back as a number: `1.5k` → 1500, `250 ms` → 250, `1.5 s` → 1500. */
function parseLabel(label: string): number {
  const m = /^([\d.]+)\s*(k|M|ms|s)?$/.exec(label);
  if (m === null) throw new Error(`unreadable label ${label}`);
  const n = Number(m[1]);
  const unit = { k: 1000, M: 1_000_000, ms: 1, s: 1000 }[m[2] ?? ''] ?? 1;
  return n * unit;
}

const MAXIMA = [0.05, 0.3, 0.9, 1, 1.3, 2.6, 7.5, 9.9, 10, 20, 32, 99, 180, 640, 999, 1250, 7400, 45_000, 2_300_000];

describe('value axis ticks', () => {
  it('steps by 1, 2 or 5 × a power of ten from 0 to a top at or above the highest value', () => {
    expect(valueScale(1).ticks).toEqual([0, 0.5, 1]);
    expect(valueScale(20).ticks).toEqual([0, 5, 10, 15, 20]);
    expect(valueScale(32).ticks).toEqual([0, 10, 20, 30, 40]);
    expect(valueScale(0.3).ticks).toEqual([0, 0.1, 0.2, 0.3]);
    for (const max of MAXIMA) {
      const { ticks, top, step } = valueScale(max);
      expect(ticks[0]).toBe(0);
      expect(top).toBeGreaterThanOrEqual(max);
      expect(ticks.length - 1).toBeLessThanOrEqual(4);
      expect(String(step / 10 ** Math.floor(Math.log10(step) + 1e-9))).toMatch(/^(1|2|5)$/);
    }
  });

  it('labels every rate tick with exactly its value (no 0.25 shown as 0.3)', () => {
    for (const max of MAXIMA) {
      for (const tick of valueScale(max).ticks) expect(parseLabel(formatRate(tick)), `${tick} of an axis up to ${max}`).toBeCloseTo(tick, 9);
    }
  });

  it('labels every latency tick with exactly its value', () => {
    for (const max of [0.4, 3, 12, 85, 350, 999, 1800, 9000]) {
      for (const tick of valueScale(max).ticks) expect(parseLabel(formatLatency(tick)), `${tick} ms of an axis up to ${max}`).toBeCloseTo(tick, 9);
    }
  });

  it('gives an all-zero or empty series a small axis rather than none', () => {
    expect(valueScale(0)).toEqual({ top: 0.4, ticks: [0, 0.1, 0.2, 0.3, 0.4], step: 0.1 });
    expect(maxOf([null, 0, null])).toBe(0);
    expect(maxOf([3, null, 7.5, 2])).toBe(7.5);
  });
});
