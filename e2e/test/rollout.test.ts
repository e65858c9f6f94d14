import { describe, expect, it } from 'vitest';
import { expectInvisible, runRow } from './rollout-expectations.js';

const MODES = ['graceful', 'refuse', 'blackhole', 'mixed'] as const;
// Issue 5's matrix, closed-loop rows (32 clients POSTing 64 KiB; connect timeout 5 s, response
// timeout 10 s). Its open-loop rows (500 req/s) run in `pnpm bench`.
const TTLS = [5, 30] as const;

// Issue 12: a pod whose process freezes while its kernel still accepts connections, found with the
// service's default config (no returnProbe.path); the open loop is the issue's 500 req/s.
const HANG_LOADS = [{ concurrency: 32 }, { ratePerSecond: 500 }] as const;

describe('rolling update under load: clients do not notice (closed loop, 32 clients)', () => {
  for (const ttl of TTLS) {
    for (const mode of MODES) {
      it(`DNS TTL ${ttl} s, old pods die ${mode === 'mixed' ? 'in mixed ways' : `by ${mode}`}: no error, max < 1 s, no stalled second`, async () => {
        const r = await runRow(`rollout ${mode} ttl ${ttl}s`, { mode, ttl });
        expect(r.steps.filter((s) => s.kind === 'pod_closed' || s.kind === 'pod_terminating').length).toBeGreaterThanOrEqual(4);
        expectInvisible(r);
      });
    }
  }
});

describe('rolling update under load, old pods hang (frozen process, kernel still accepts)', () => {
  for (const ttl of TTLS) {
    for (const load of HANG_LOADS) {
      const shape = 'concurrency' in load ? `closed loop, ${load.concurrency} clients` : `open loop, ${load.ratePerSecond} req/s`;
      it(`DNS TTL ${ttl} s, ${shape}, no health path: no error, max < 1 s, no stalled second`, async () => {
        const r = await runRow(`rollout hang ttl ${ttl}s, ${shape}`, { mode: 'hang', ttl, ...load });
        expect(r.steps.filter((s) => s.kind === 'pod_terminating' && s.mode === 'hang')).toHaveLength(4);
        expectInvisible(r);
      });
    }
  }
});

describe('rolling update under load with two worker processes', () => {
  it('has zero client-visible errors in a mixed rollout with workers: 2', async () => {
    const r = await runRow('rollout mixed, workers 2', { mode: 'mixed', workers: 2 });
    expectInvisible(r);
  });
});
