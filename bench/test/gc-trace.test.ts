import { describe, expect, it } from 'vitest';
import { heapAllocation } from '../src/profile-run.js';

// Lines as node 20's --trace-gc prints them (from a podgate run under POST 64 KiB).
const TRACE = `[18011:0x25ad4e10]    12229 ms: Mark-Compact 28.9 (62.1) -> 22.7 (62.3) MB, 5.29 / 0.01 ms  (+ 11.6 ms in 97 steps since start of marking, biggest step 4.1 ms, walltime since start of marking 20 ms) (average mu = 0.913, current mu = 0.894) finalize incremental marking via task; GC in old space requested
{"level":40,"msg":"something else in the log"}
[18011:0x25ad4e10]    12300 ms: Scavenge 28.1 (61.6) -> 25.2 (61.6) MB, 1.62 / 0.00 ms  (average mu = 0.933, current mu = 0.946) external memory pressure;
[18011:0x25ad4e10]    12315 ms: Scavenge 27.9 (61.6) -> 25.7 (61.6) MB, 1.23 / 0.00 ms  (average mu = 0.933, current mu = 0.946) external memory pressure;
`;

describe('heapAllocation', () => {
  it('sums what the heap grew by between collections, counts them and their pauses', () => {
    const r = heapAllocation(TRACE);
    // (28.1 - 22.7) + (27.9 - 25.2): the first collection has nothing before it to measure from.
    expect(r.allocatedMiB).toBeCloseTo(5.4 + 2.7, 5);
    expect([r.scavenges, r.markCompacts]).toEqual([2, 1]);
    expect(r.pauseMs).toBeCloseTo(5.29 + 1.62 + 1.23, 5);
  });

  it('finds nothing in a log without collections', () => {
    expect(heapAllocation('{"level":30}\n')).toEqual({ allocatedMiB: 0, scavenges: 0, markCompacts: 0, pauseMs: 0 });
  });
});
