import { describe, expect, it } from 'vitest';
import { parsePickTable } from '../src/pick-bench.js';
import { median } from '../src/stats.js';
import { parseWrkOutput, wrkArgs, wrkScript } from '../src/wrk.js';
import { WORKLOADS } from '../src/workloads.js';

const post64k = WORKLOADS.find((w) => w.id === 'post64k');

describe('wrk output', () => {
  it('reads req/s, latency in ms and error totals from the done() line', () => {
    const stdout =
      'Running 5s test @ http://127.0.0.1:18701/\n' +
      'PODGATE_BENCH_RESULT {"requests":50000,"duration_us":5000000,"errors":{"connect":0,"read":2,"write":0,"status":3,"timeout":1},' +
      '"latency_us":{"p50":1500,"p90":2500,"p99":9000,"max":20000,"mean":1700.5}}\n';
    const r = parseWrkOutput(stdout);
    expect(r.rps).toBe(10_000);
    expect(r.latencyMs).toEqual({ p50: 1.5, p90: 2.5, p99: 9, max: 20, mean: 1.701 });
    expect(r.errors.total).toBe(6);
  });

  it('refuses output without the result line rather than reporting zeros', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:18701 Connection refused\n')).toThrow(/no result line/);
  });

  it('sends a POST workload body of the right size from the Lua script, one thread, no pipelining flag', () => {
    if (post64k === undefined) throw new Error('no post64k workload');
    expect(wrkScript(post64k)).toContain('wrk.body = string.rep("x", 65536)');
    expect(wrkArgs('http://127.0.0.1:18701/', post64k, 5, '/tmp/p.lua')).toEqual([
      '-t1',
      '-c64',
      '-d5s',
      '--timeout',
      '5s',
      '-s',
      '/tmp/p.lua',
      'http://127.0.0.1:18701/',
    ]);
  });
});

describe('pick bench output', () => {
  it('reads the rows of console.table', () => {
    const out = [
      'pick micro-benchmark: node v20.20.2, AMD EPYC × 2',
      '┌─────────┬─────────────────┬───────┬─────────┐',
      '│ (index) │ algorithm       │ peers │ ns/pick │',
      "│ 0       │ 'round_robin'   │ 4     │ '17.1'  │",
      "│ 7       │ 'least_request' │ 10000 │ '60.4'  │",
      '└─────────┴─────────────────┴───────┴─────────┘',
    ].join('\n');
    expect(parsePickTable(out)).toEqual([
      { algorithm: 'round_robin', peers: 4, nsPerPick: 17.1 },
      { algorithm: 'least_request', peers: 10000, nsPerPick: 60.4 },
    ]);
  });
});

describe('median', () => {
  it('takes the middle round, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
