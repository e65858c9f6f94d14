import type { RawResponse } from '../raw-client.js';
import type { FuzzCase } from './case-generator.js';
import { describe, escapeBytes } from './invariants.js';
import type { PodRecord } from './recording-pod.js';
import type { RefRequest } from './reference-reading.js';

/*
 * The message of a failed case: enough to replay it (seed, index, the command) and to replay it
 * without this suite (every write, byte-exact, JSON-escaped, with its pause), plus what the
 * reference read and what podgate did.
 */

export interface FailedCase {
  fcase: FuzzCase;
  refs: readonly RefRequest[];
  records: readonly PodRecord[];
  responses: readonly RawResponse[];
  closed: boolean;
  violations: readonly string[];
}

export function replayCommand(seed: number, index: number): string {
  return `PODGATE_FUZZ_SEED=${seed} PODGATE_FUZZ_CASE=${index} pnpm --filter @podgate/proxy exec vitest run test/front-fuzz.test.ts`;
}

export function formatFailure(f: FailedCase): string {
  const { fcase } = f;
  const lines = [
    `front fuzz: case ${fcase.index} of seed ${fcase.runSeed} broke ${f.violations.length} invariant(s)`,
    `replay: ${replayCommand(fcase.runSeed, fcase.index)}`,
    '',
    'violations:',
    ...f.violations.map((v) => `  - ${v}`),
    '',
    'mutations:',
    ...(fcase.notes.length === 0 ? ['  (none)'] : fcase.notes.map((n) => `  - ${n}`)),
    '',
    'writes (pause before each, then the exact bytes, JSON with \\u00XX for non-ASCII):',
    ...fcase.parts.map((p, i) => `  [${i}] +${p.pauseMs}ms ${escapeBytes(p.bytes)}`),
    `whole stream: ${escapeBytes(fcase.parts.map((p) => p.bytes).join(''))}`,
    '',
    'reference reading:',
    ...f.refs.map(
      (r) =>
        `  [${r.index}] ${r.verdict}${r.why === '' ? '' : ` (${r.why})`}: ${r.method} ${JSON.stringify(r.target)} fields ${JSON.stringify(r.fields)} body ${escapeBytes(r.body)}${r.closeAfter ? ' then close' : ''}`,
    ),
    '',
    'pods got:',
    ...(f.records.length === 0 ? ['  (nothing)'] : f.records.map((r) => `  #${r.seq} ${r.pod}: ${describe(r)}`)),
    '',
    `client got: ${JSON.stringify(f.responses.map((r) => `${r.status} ${r.body.slice(0, 120)}`))}${f.closed ? ', then podgate closed' : ''}`,
  ];
  return lines.join('\n');
}
