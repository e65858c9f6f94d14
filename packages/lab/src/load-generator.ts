import { isIPv4 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, request, type Dispatcher } from 'undici';
import { LabError } from './lab-error.js';
import { LoadRecorder, type LoadReport } from './load-report.js';

export { formatReport, type LoadReport } from './load-report.js';

export interface LoadOptions {
  url: string;
  /** Default POST. */
  method?: string;
  /** Request body size; default 64 KiB (one small image). Ignored for GET and HEAD. */
  bodyBytes?: number;
  headers?: Record<string, string>;
  /** Closed-loop clients, each sending its next request when the last one ends; default 32. */
  concurrency?: number;
  /** When set, an open loop instead: requests start on this fixed schedule whatever the answers. */
  ratePerSecond?: number;
  /** No request starts after this. */
  durationMs: number;
  /** Hard cap on requests started; default 1e6. */
  maxRequests?: number;
  /** Headers and body timeout of each request; default 60 s. */
  timeoutMs?: number;
  /** Connect timeout; default min(timeoutMs, 10 s), undici's own default. */
  connectTimeoutMs?: number;
  /** Keep one sample a request in the report; default true. */
  keepSamples?: boolean;
  /**
   * Keep the body of the first this many non-2xx answers (report.errorBodies), so a test can check
   * what clients were told (issue 12: a 503 must name its cause); default 0.
   */
  keepErrorBodies?: number;
  /** Stops starting requests; those in flight still finish (each bounded by its timeouts). */
  stop?: AbortSignal;
}

// Bounds an open loop against a target that stops answering: past this many outstanding
// requests, scheduled sends are dropped (and counted) instead of piling up sockets.
const MAX_OUTSTANDING = 5000;

/**
 * Sends bounded load and records every outcome. The run ends when `durationMs` passes,
 * `maxRequests` were started or `stop` fires, and every started request has finished.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const o = validate(options);
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
    connect: { timeout: o.connectTimeoutMs },
  });
  const method = o.method.toUpperCase() as Dispatcher.HttpMethod;
  const body = method === 'GET' || method === 'HEAD' || o.bodyBytes === 0 ? undefined : Buffer.alloc(o.bodyBytes, 0x61);
  const t0 = performance.now();
  const deadline = t0 + o.durationMs;
  const recorder = new LoadRecorder(t0, o.keepSamples, o.keepErrorBodies);
  let started = 0;
  const mayStart = (): boolean => !o.stop?.aborted && started < o.maxRequests && performance.now() < deadline;

  const one = async (): Promise<void> => {
    started++;
    const start = performance.now();
    try {
      const res = await request(o.url, { dispatcher: agent, method, headers: o.headers, body });
      const failed = res.statusCode < 200 || res.statusCode > 299;
      if (failed && recorder.wantsErrorBody()) {
        const text = await res.body.text();
        const end = performance.now();
        recorder.record(start, end, res.statusCode);
        recorder.keepErrorBody(res.statusCode, end - start, text);
        return;
      }
      // Consume every body, or the connection is never reused.
      for await (const _chunk of res.body) {
        // discard
      }
      recorder.record(start, performance.now(), res.statusCode);
    } catch (err) {
      recorder.record(start, performance.now(), 0, loadErrorCode(err));
    }
  };

  try {
    if (o.ratePerSecond === undefined) {
      const client = async (): Promise<void> => {
        while (mayStart()) await one();
      };
      await Promise.all(Array.from({ length: o.concurrency }, client));
    } else {
      await openLoop(o.ratePerSecond, t0, mayStart, one, recorder, o.stop);
    }
  } finally {
    await agent.destroy();
  }
  return recorder.report(performance.now() - t0, o.ratePerSecond !== undefined);
}

async function openLoop(
  ratePerSecond: number,
  t0: number,
  mayStart: () => boolean,
  one: () => Promise<void>,
  recorder: LoadRecorder,
  stop: AbortSignal | undefined,
): Promise<void> {
  const intervalMs = 1000 / ratePerSecond;
  const outstanding = new Set<Promise<void>>();
  let scheduled = 0;
  while (mayStart()) {
    // Catch up on every send due by now, so timer jitter does not lower the rate.
    while (t0 + scheduled * intervalMs <= performance.now() && mayStart()) {
      scheduled++;
      if (outstanding.size >= MAX_OUTSTANDING) {
        recorder.dropped++;
        continue;
      }
      const p = one().finally(() => outstanding.delete(p));
      outstanding.add(p);
    }
    await sleep(Math.max(1, t0 + scheduled * intervalMs - performance.now()), stop);
  }
  await Promise.all(outstanding);
}

function sleep(ms: number, stop: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop?.addEventListener('abort', done, { once: true });
  });
}

/** A stable code for a failed request: the error's code, else its name (undici's HTTPParserError has no code). */
export function loadErrorCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'unknown';
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  if (typeof e.code === 'string') return e.code;
  if (typeof e.cause?.code === 'string') return e.cause.code;
  return typeof e.name === 'string' ? e.name : 'unknown';
}

type ValidLoadOptions = Required<Omit<LoadOptions, 'headers' | 'ratePerSecond' | 'stop'>> & Pick<LoadOptions, 'headers' | 'ratePerSecond' | 'stop'>;

function validate(options: LoadOptions): ValidLoadOptions {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const o: ValidLoadOptions = {
    url: options.url,
    method: options.method ?? 'POST',
    bodyBytes: options.bodyBytes ?? 64 * 1024,
    headers: options.headers,
    concurrency: options.concurrency ?? 32,
    ratePerSecond: options.ratePerSecond,
    durationMs: options.durationMs,
    maxRequests: options.maxRequests ?? 1e6,
    timeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? Math.min(timeoutMs, 10_000),
    keepSamples: options.keepSamples ?? true,
    keepErrorBodies: options.keepErrorBodies ?? 0,
    stop: options.stop,
  };
  const positive: Array<[string, number]> = [
    ['durationMs', o.durationMs],
    ['concurrency', o.concurrency],
    ['maxRequests', o.maxRequests],
    ['timeoutMs', o.timeoutMs],
    ['connectTimeoutMs', o.connectTimeoutMs],
  ];
  if (o.ratePerSecond !== undefined) positive.push(['ratePerSecond', o.ratePerSecond]);
  for (const [key, value] of positive) {
    if (!(Number.isFinite(value) && value > 0)) throw new LabError('LAB_INVALID_OPTION', `invalid ${key}: ${value}`);
  }
  if (!Number.isInteger(o.concurrency)) throw new LabError('LAB_INVALID_OPTION', `invalid concurrency: ${o.concurrency}`);
  if (!(Number.isInteger(o.keepErrorBodies) && o.keepErrorBodies >= 0)) {
    throw new LabError('LAB_INVALID_OPTION', `invalid keepErrorBodies: ${o.keepErrorBodies}`);
  }
  if (!(Number.isInteger(o.bodyBytes) && o.bodyBytes >= 0)) throw new LabError('LAB_INVALID_OPTION', `invalid bodyBytes: ${o.bodyBytes}`);
  let host: string;
  try {
    host = new URL(o.url).hostname;
  } catch {
    throw new LabError('LAB_INVALID_OPTION', `invalid url: ${o.url}`);
  }
  // The lab is loopback only: load must never leave the machine by a typo.
  if (!(isIPv4(host) && host.startsWith('127.')) && host !== 'localhost' && host !== '[::1]') {
    throw new LabError('LAB_INVALID_OPTION', `invalid url ${o.url}: the lab sends load to loopback only`);
  }
  return o;
}
