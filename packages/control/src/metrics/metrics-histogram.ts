import type { Metric } from 'prom-client';

/*
 * A Prometheus histogram whose buckets are loaded, not observed. The data plane counts durations
 * per bucket in each worker; the primary only knows the sums, and prom-client's Histogram can
 * only `observe()` one value at a time. This object has the shape prom-client's Registry reads
 * (`name`, `help`, `type`, `aggregator`, `get()`), so the registry writes its text like its own.
 */

type Labels<T extends string> = Record<T, string>;

interface Series<T extends string> {
  labels: Labels<T>;
  /** Cumulative per upper bound, `+Inf` last (= count). */
  cumulative: number[];
  sum: number;
}

/** One line of the histogram, as prom-client's Registry formats it. */
interface HistogramLine {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export interface LoadedHistogramOptions<T extends string> {
  name: string;
  help: string;
  labelNames: readonly T[];
  /** Finite upper bounds in the metric's unit, ascending; `+Inf` is added. */
  upperBounds: readonly number[];
}

export class LoadedHistogram<T extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames: readonly T[];
  private readonly upperBounds: readonly number[];
  private readonly series = new Map<string, Series<T>>();

  constructor(options: LoadedHistogramOptions<T>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.upperBounds = options.upperBounds;
  }

  /** Registers this histogram with a prom-client registry (which types only its own metrics). */
  asMetric(): Metric {
    return this as unknown as Metric;
  }

  /**
   * Sets one label set. `counts` are per bucket, not cumulative: one per upper bound and the
   * `+Inf` bucket last; a missing entry counts 0, entries past `+Inf` are added to it.
   */
  set(labels: Labels<T>, counts: readonly number[], sum: number): void {
    const cumulative: number[] = [];
    let running = 0;
    for (let i = 0; i < counts.length; i++) {
      running += counts[i] ?? 0;
      if (i < this.upperBounds.length) cumulative.push(running);
    }
    while (cumulative.length < this.upperBounds.length) cumulative.push(running);
    cumulative.push(running);
    this.series.set(this.labelNames.map((n) => labels[n]).join('\u0000'), { labels, cumulative, sum });
  }

  reset(): void {
    this.series.clear();
  }

  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramLine[] }> {
    const values: HistogramLine[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, cumulative, sum } of this.series.values()) {
      for (let i = 0; i < cumulative.length; i++) {
        const le = i < this.upperBounds.length ? (this.upperBounds[i] as number) : '+Inf';
        values.push({ metricName: bucket, labels: { ...labels, le }, value: cumulative[i] as number });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: sum });
      values.push({ metricName: `${this.name}_count`, labels, value: cumulative[cumulative.length - 1] as number });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
