/*
 * The value axis of a chart: from 0 to a round top, in steps of 1, 2 or 5 × a power of ten, so every
 * tick prints exactly with the page's own formatters (formatRate, formatLatency). Left to the chart
 * library, a rate axis got ticks at 0.25 and 0.75 that formatRate printed as `0.3` and `0.8`.
 */

export interface ValueScale {
  /** The axis' top: the first tick at or above the highest value. */
  top: number;
  ticks: number[];
  step: number;
}

const MULTIPLES = [1, 2, 5, 10] as const;

/**
 * Ticks from 0 for values up to `max`, at most `intervals` steps. `minStep` keeps steps at what the
 * formatter can print: 0.1 for formatRate and formatLatency (one decimal below 10).
 */
export function valueScale(max: number, intervals = 4, minStep = 0.1): ValueScale {
  if (!Number.isFinite(max) || max <= 0)
    return { top: minStep * intervals, ticks: Array.from({ length: intervals + 1 }, (_, i) => tick(i, minStep)), step: minStep };
  const raw = max / intervals;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = (MULTIPLES.find((m) => m * power >= raw * (1 - 1e-9)) ?? 10) * power;
  if (step < minStep) step = minStep;
  const count = Math.max(1, Math.ceil(max / step - 1e-9));
  const ticks = Array.from({ length: count + 1 }, (_, i) => tick(i, step));
  return { top: ticks.at(-1) ?? step, ticks, step };
}

/** `i` steps, without the float noise of repeated addition (3 × 0.1 is 0.30000000000000004). */
function tick(i: number, step: number): number {
  return Number((i * step).toPrecision(12));
}

/** The highest of the values that are numbers (0 when there is none). */
export function maxOf(values: Iterable<number | null>): number {
  let max = 0;
  for (const v of values) if (v !== null && Number.isFinite(v) && v > max) max = v;
  return max;
}
