import { formatReport } from '@podgate/lab';
import { describe, expect, it } from 'vitest';
import { runRolloutScenario } from './rollout-scenario.js';

const MODES = ['graceful', 'refuse', 'blackhole', 'mixed'] as const;

describe('rolling update under load: clients do not notice', () => {
  for (const mode of MODES) {
    it(`has zero client-visible errors when old pods die ${mode === 'mixed' ? 'in mixed ways' : `by ${mode}`}`, async () => {
      const r = await runRolloutScenario({ mode });
      const ejections = r.events.filter((e) => e.type === 'peer_ejected').map((e) => `${e.address} ${e.reason}`);
      console.log(`${formatReport(`rollout ${mode}`, r.report)} | retries ${r.retries} | ejections: ${ejections.join(', ') || 'none'}`);
      if (r.failureLog.length > 0) console.log(r.failureLog.join(''));
      expect(r.report.total).toBeGreaterThan(500);
      expect(r.report.byError).toEqual({});
      expect(r.report.errors).toBe(0);
      expect(r.steps.filter((s) => s.kind === 'pod_closed' || s.kind === 'pod_terminating').length).toBeGreaterThanOrEqual(4);
    });
  }
});

describe('rolling update under load with two worker processes', () => {
  it('has zero client-visible errors in a mixed rollout with workers: 2', async () => {
    const r = await runRolloutScenario({ mode: 'mixed', workers: 2 });
    console.log(`${formatReport('rollout mixed, workers 2', r.report)} | retries ${r.retries}`);
    expect(r.report.total).toBeGreaterThan(500);
    expect(r.report.byError).toEqual({});
    expect(r.report.errors).toBe(0);
  });
});
