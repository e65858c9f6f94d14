/** What a load run saw: every outcome counted, latency over all requests, ok or not. */
export interface LoadReport {
  total: number;
  /** 2xx answers only. */
  ok: number;
  errors: number;
  /** Answers by status code ("200", "503"); network failures are not here. */
  byStatus: Record<string, number>;
  /** Network error codes (ECONNREFUSED, UND_ERR_SOCKET, UND_ERR_HEADERS_TIMEOUT…) and `status_5xx`-style keys for non-2xx answers. */
  byError: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Requests completed in each second of the run. */
  perSecond: number[];
  durationMs: number;
  /** Open loop only: sends skipped because too many requests were outstanding. */
  dropped?: number;
  /** One entry a request, `start` in ms since the run began. */
  samples?: Array<{ start: number; ms: number; status: number; error?: string }>;
  /** With `keepErrorBodies`: the first non-2xx answers' bodies (each cut at 4 KiB). */
  errorBodies?: Array<{ status: number; ms: number; body: string }>;
}

// An error body names its cause in a line or two; more is not worth keeping thousands of.
const MAX_ERROR_BODY_CHARS = 4096;

/** Collects outcomes as they complete and turns them into a LoadReport. */
export class LoadRecorder {
  readonly #t0: number;
  readonly #keepSamples: boolean;
  readonly #latencies: number[] = [];
  readonly #perSecond: number[] = [];
  readonly #byStatus: Record<string, number> = {};
  readonly #byError: Record<string, number> = {};
  readonly #samples: NonNullable<LoadReport['samples']> = [];
  readonly #keepErrorBodies: number;
  readonly #errorBodies: NonNullable<LoadReport['errorBodies']> = [];
  #ok = 0;
  dropped = 0;

  constructor(t0: number, keepSamples: boolean, keepErrorBodies = 0) {
    this.#t0 = t0;
    this.#keepSamples = keepSamples;
    this.#keepErrorBodies = keepErrorBodies;
  }

  /** True while fewer than `keepErrorBodies` error bodies were kept. */
  wantsErrorBody(): boolean {
    return this.#errorBodies.length < this.#keepErrorBodies;
  }

  keepErrorBody(status: number, ms: number, body: string): void {
    if (this.wantsErrorBody()) this.#errorBodies.push({ status, ms: round(ms), body: body.slice(0, MAX_ERROR_BODY_CHARS) });
  }

  /** `status` is 0 when no answer came; `error` is then the network error code. */
  record(start: number, end: number, status: number, error?: string): void {
    const ms = end - start;
    this.#latencies.push(ms);
    const second = Math.max(0, Math.floor((end - this.#t0) / 1000));
    while (this.#perSecond.length <= second) this.#perSecond.push(0);
    this.#perSecond[second] = (this.#perSecond[second] ?? 0) + 1;
    let failure = error;
    if (status !== 0) {
      bump(this.#byStatus, String(status));
      if (status >= 200 && status < 300) this.#ok++;
      else failure = `status_${Math.floor(status / 100)}xx`;
    }
    if (failure !== undefined) bump(this.#byError, failure);
    if (this.#keepSamples) {
      const sample: { start: number; ms: number; status: number; error?: string } = { start: start - this.#t0, ms, status };
      if (error !== undefined) sample.error = error;
      this.#samples.push(sample);
    }
  }

  report(durationMs: number, openLoop: boolean): LoadReport {
    const sorted = Float64Array.from(this.#latencies).sort();
    const total = sorted.length;
    let sum = 0;
    for (const ms of sorted) sum += ms;
    const report: LoadReport = {
      total,
      ok: this.#ok,
      errors: total - this.#ok,
      byStatus: { ...this.#byStatus },
      byError: { ...this.#byError },
      latencyMs: {
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: total === 0 ? 0 : round(sorted[total - 1] ?? 0),
        mean: total === 0 ? 0 : round(sum / total),
      },
      perSecond: [...this.#perSecond],
      durationMs: round(durationMs),
    };
    if (openLoop) report.dropped = this.dropped;
    if (this.#keepSamples) report.samples = this.#samples;
    if (this.#keepErrorBodies > 0) report.errorBodies = this.#errorBodies;
    return report;
  }
}

/** One line: totals, errors by cause, p50/p99/max. */
export function formatReport(name: string, r: LoadReport): string {
  const causes = Object.entries(r.byError)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code}=${n}`)
    .join(' ');
  const rate = r.durationMs > 0 ? Math.round((r.total * 1000) / r.durationMs) : 0;
  return (
    `${name}: total=${r.total} ok=${r.ok} errors=${r.errors}${causes === '' ? '' : ` (${causes})`}` +
    ` p50=${r.latencyMs.p50}ms p99=${r.latencyMs.p99}ms max=${r.latencyMs.max}ms rate=${rate}/s` +
    (r.dropped ? ` dropped=${r.dropped}` : '')
  );
}

/** Nearest-rank percentile over sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return round(sorted[rank - 1] ?? 0);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
