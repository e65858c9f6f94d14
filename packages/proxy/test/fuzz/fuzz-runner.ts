import { generateCase, type FuzzCase } from './case-generator.js';
import { playCase, responsesIn } from './case-connection.js';
import { formatFailure } from './failure-report.js';
import type { FuzzHarness } from './fuzz-harness.js';
import { checkCase } from './invariants.js';
import type { PodRecord } from './recording-pod.js';
import { expectedAnswers, readReference } from './reference-reading.js';

/*
 * Runs cases one connection at a time against a harness, checks each (invariants.ts), then checks
 * that podgate still serves a plain request on a new connection. Stops at the first failing case,
 * or when the time or the case budget is spent.
 */

export interface RunOptions {
  seed: number;
  /** Wall time for the random cases; the case in progress finishes. */
  durationMs: number;
  maxCases: number;
  /** Only this case index (a replay). */
  only?: number;
}

export interface RunSummary {
  cases: number;
  /** How often each verdict was the first non-valid one of a case (or "valid" for all-valid cases). */
  outcomes: Record<string, number>;
  /** Requests the pods got during the run (probes left out). */
  forwarded: number;
  /** The first failure's message, or null. */
  failure: string | null;
}

const PROBE_PREFIX = '/fz/probe-';
/** After the last case: how long a late request (a leak that took its time) may still arrive. */
const SETTLE_MS = 200;

export async function runFuzz(h: FuzzHarness, o: RunOptions): Promise<RunSummary> {
  const summary: RunSummary = { cases: 0, outcomes: {}, forwarded: 0, failure: null };
  const cut: PodRecord[] = [];
  const until = Date.now() + o.durationMs;
  const first = o.only ?? 0;
  const last = o.only ?? o.maxCases - 1;
  for (let index = first; index <= last && (o.only !== undefined || Date.now() < until); index++) {
    const fcase = generateCase(o.seed, index, { bufferBytes: h.bufferBytes });
    const result = await runCase(h, fcase);
    summary.cases++;
    summary.outcomes[result.outcome] = (summary.outcomes[result.outcome] ?? 0) + 1;
    summary.forwarded += result.records.filter((r) => r.complete).length;
    cut.push(...result.records.filter((r) => !r.complete));
    if (result.failure !== null) {
      summary.failure = result.failure;
      return summary;
    }
  }
  // Nothing may arrive late, and no request a pod saw cut may have completed since.
  const seen = h.log.records.length;
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const late = h.log.records.slice(seen).filter((r) => !r.url.startsWith(PROBE_PREFIX));
  const completed = cut.filter((r) => r.complete);
  if (late.length > 0 || completed.length > 0 || h.log.anomalies.length > 0) {
    summary.failure = `front fuzz (seed ${o.seed}): after the last case, pods got ${JSON.stringify(late.map((r) => `${r.method} ${r.url}`))} late, ${JSON.stringify(completed.map((r) => r.url))} completed after being cut, anomalies ${JSON.stringify(h.log.anomalies)}`;
  }
  return summary;
}

export interface CaseResult {
  /** The first verdict that ended the case's forwarding, or "valid". */
  outcome: string;
  records: PodRecord[];
  failure: string | null;
}

export async function runCase(h: FuzzHarness, fcase: FuzzCase): Promise<CaseResult> {
  const stream = fcase.parts.map((p) => p.bytes).join('');
  const refs = readReference(stream, { maxBodyBytes: h.maxBodyBytes });
  const from = h.log.records.length;
  const anomaliesFrom = h.log.anomalies.length;
  const played = await playCase(h.port, fcase.parts, expectedAnswers(refs));
  const probeUrl = `${PROBE_PREFIX}m${fcase.index}`;
  const probe = await playCase(h.port, [{ pauseMs: 0, bytes: `GET ${probeUrl} HTTP/1.1\r\nHost: ok.test\r\nConnection: close\r\n\r\n` }], 1);
  const all = h.log.records.slice(from);
  const records = all.filter((r) => !r.url.startsWith(PROBE_PREFIX));
  const { responses, error } = responsesIn(played.text);
  const violations = checkCase({ refs, records, responses, responseError: error, closed: played.closed });
  // podgate still serves: a plain request on a new connection reaches a pod and is answered.
  const probeAnswer = responsesIn(probe.text).responses.filter((r) => r.status >= 200);
  if (probeAnswer.length !== 1 || probeAnswer[0]?.status !== 200 || probeAnswer[0]?.body !== probeUrl || !all.some((r) => r.url === probeUrl && r.complete)) {
    violations.push(`podgate no longer serves a plain request on a new connection: got ${JSON.stringify(probeAnswer.map((r) => r.status))}`);
  }
  violations.push(...h.log.anomalies.slice(anomaliesFrom));
  const outcome = refs.find((r) => r.verdict !== 'valid')?.verdict ?? 'valid';
  const failure = violations.length === 0 ? null : formatFailure({ fcase, refs, records, responses, closed: played.closed, violations });
  return { outcome, records, failure };
}
