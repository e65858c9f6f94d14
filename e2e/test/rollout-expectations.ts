import { expect } from 'vitest';
import { timeline, type RolloutResult } from './rollout-scenario.js';

// Enough of a failure log to read what went wrong; a broken row can fail thousands of requests.
const LOG_EXCERPT_LINES = 40;

/** Prints what a reader needs to see why a row failed: the start of its failure log and the timeline. */
export function printFailure(r: RolloutResult): void {
  const log = r.failureLog;
  const more = log.length > LOG_EXCERPT_LINES ? `… ${log.length - LOG_EXCERPT_LINES} more failure-log lines\n` : '';
  console.log(`failure log (${log.length} lines):\n${log.slice(0, LOG_EXCERPT_LINES).join('')}${more}timeline:\n${timeline(r).join('\n')}`);
}

/** Issue 5's target: no error, no request waiting a second, no second below half the steady rate. */
export function expectInvisible(r: RolloutResult): void {
  if (r.failureLog.length > 0 || r.report.errors > 0 || r.stalledSeconds.length > 0) printFailure(r);
  expect(r.report.total).toBeGreaterThan(500);
  expect(r.report.byError).toEqual({});
  expect(r.report.errors).toBe(0);
  expect(r.report.latencyMs.max).toBeLessThan(1000);
  expect(r.stalledSeconds).toEqual([]);
}
