import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runRolloutScenario, summary, type RolloutResult } from '../test/rollout-scenario.js';

// Issue 5's matrix, open-loop rows: 500 req/s POSTing 64 KiB through a full rolling update, every
// termination mode, DNS TTL 5 s and 30 s (connect timeout 5 s, response timeout 10 s). The
// closed-loop rows are tests (e2e/test/rollout.test.ts); these are measured and reported.
const MODES = ['graceful', 'refuse', 'blackhole', 'mixed'] as const;
const TTLS = [5, 30] as const;
const RATE = 500;
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

interface Row {
  mode: string;
  ttl: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
  steadyRate: number;
  stalledSeconds: number;
  dropped: number;
}

const rows: Row[] = [];

function row(mode: string, ttl: number, r: RolloutResult): Row {
  const l = r.report.latencyMs;
  return {
    mode,
    ttl,
    requests: r.report.total,
    errors: r.report.errors,
    p50: l.p50,
    p99: l.p99,
    max: l.max,
    steadyRate: r.steadyRate,
    stalledSeconds: r.stalledSeconds.length,
    dropped: r.report.dropped ?? 0,
  };
}

describe(`rolling update at an open-loop ${RATE} req/s`, () => {
  for (const ttl of TTLS) {
    for (const mode of MODES) {
      it(`${mode}, DNS TTL ${ttl} s`, async () => {
        const r = await runRolloutScenario({ mode, ttl, ratePerSecond: RATE });
        console.log(summary(`open loop ${RATE}/s, ${mode}, ttl ${ttl}s`, r));
        rows.push(row(mode, ttl, r));
        expect(r.report.total).toBeGreaterThan(RATE);
      });
    }
  }

  it('writes the table', () => {
    const header = '| mode | DNS TTL | requests | errors | p50 ms | p99 ms | max ms | steady req/s | stalled seconds | target met |';
    const lines = rows.map(
      (r) =>
        `| ${r.mode} | ${r.ttl} s | ${r.requests} | ${r.errors} | ${r.p50} | ${r.p99} | ${r.max} | ${r.steadyRate} | ${r.stalledSeconds} | ${r.errors === 0 && r.max < 1000 && r.stalledSeconds === 0 ? 'yes' : 'NO'} |`,
    );
    const machine = `${cpus()[0]?.model ?? 'unknown cpu'} × ${cpus().length}, Linux ${release()}, Node ${process.version}`;
    const md = [
      `## Rolling update, open loop ${RATE} req/s (POST 64 KiB, 4 pods, maxSurge 1)`,
      '',
      machine,
      '',
      header,
      '|---|---|---|---|---|---|---|---|---|---|',
      ...lines,
      '',
    ].join('\n');
    console.log(`\n${md}`);
    mkdirSync(RESULTS, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    writeFileSync(`${RESULTS}rollout-open-loop-${stamp}.md`, md);
    writeFileSync(`${RESULTS}rollout-open-loop-${stamp}.json`, JSON.stringify({ machine, rate: RATE, rows }, null, 2));
    expect(rows.length).toBe(MODES.length * TTLS.length);
  });
});
