import { describe, expect, it } from 'vitest';
import { runRolloutScenario, summary, type RolloutResult } from './rollout-scenario.js';

const MODES = ['graceful', 'refuse', 'blackhole', 'mixed'] as const;
// Issue 5's matrix, closed-loop rows (32 clients POSTing 64 KiB; connect timeout 5 s, response
// timeout 10 s). The open-loop rows (500 req/s) run in `pnpm bench`.
const TTLS = [5, 30] as const;

function expectInvisible(r: RolloutResult): void {
  if (r.failureLog.length > 0) console.log(r.failureLog.join(''));
  expect(r.report.total).toBeGreaterThan(500);
  expect(r.report.byError).toEqual({});
  expect(r.report.errors).toBe(0);
  expect(r.report.latencyMs.max).toBeLessThan(1000);
  expect(r.stalledSeconds).toEqual([]);
}

describe('rolling update under load: clients do not notice (closed loop, 32 clients)', () => {
  for (const ttl of TTLS) {
    for (const mode of MODES) {
      it(`DNS TTL ${ttl} s, old pods die ${mode === 'mixed' ? 'in mixed ways' : `by ${mode}`}: no error, max < 1 s, no stalled second`, async () => {
        const r = await runRolloutScenario({ mode, ttl });
        const ejections = r.events.filter((e) => e.type === 'peer_ejected').map((e) => `${e.address} ${e.reason}`);
        console.log(`${summary(`rollout ${mode} ttl ${ttl}s`, r)} | ejections: ${ejections.join(', ') || 'none'}`);
        expect(r.steps.filter((s) => s.kind === 'pod_closed' || s.kind === 'pod_terminating').length).toBeGreaterThanOrEqual(4);
        expectInvisible(r);
      });
    }
  }
});

describe('rolling update under load with two worker processes', () => {
  it('has zero client-visible errors in a mixed rollout with workers: 2', async () => {
    const r = await runRolloutScenario({ mode: 'mixed', workers: 2 });
    console.log(summary('rollout mixed, workers 2', r));
    expectInvisible(r);
  });
});
