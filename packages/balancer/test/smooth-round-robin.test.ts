import { describe, expect, it } from 'vitest';
import { Peer, SmoothRoundRobin } from '../src/index.js';

function peers(weights: Record<string, number>): Peer[] {
  return Object.entries(weights).map(([name, w]) => {
    const p = new Peer(`${name}:80`, 0);
    p.weight = w;
    return p;
  });
}

function run(weights: Record<string, number>, count: number): string {
  const list = peers(weights);
  const rr = new SmoothRoundRobin();
  rr.reset(list);
  let out = '';
  for (let i = 0; i < count; i++) out += rr.pick(list, null)?.host ?? '-';
  return out;
}

describe('smooth weighted round robin', () => {
  it('yields nginx sequence a a b a c a a for weights 5 1 1', () => {
    expect(run({ a: 5, b: 1, c: 1 }, 14)).toBe('aabacaa' + 'aabacaa');
  });

  it('interleaves weights 2 1 as a b a', () => {
    expect(run({ a: 2, b: 1 }, 6)).toBe('abaaba');
  });

  it('is plain round robin when weights are equal', () => {
    expect(run({ a: 1, b: 1, c: 1, d: 1 }, 8)).toBe('abcdabcd');
  });

  it('skips peers the request already tried, weighted or not', () => {
    for (const weights of [
      { a: 1, b: 1, c: 1 },
      { a: 3, b: 2, c: 1 },
    ]) {
      const list = peers(weights);
      const rr = new SmoothRoundRobin();
      rr.reset(list);
      const tried = [list[0] as Peer, list[1] as Peer];
      for (let i = 0; i < 5; i++) expect(rr.pick(list, tried)?.host).toBe('c');
      expect(rr.pick(list, list)).toBeNull();
    }
  });

  it('keeps the weighted share over many picks', () => {
    const list = peers({ a: 3, b: 2, c: 1 });
    const rr = new SmoothRoundRobin();
    rr.reset(list);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 600; i++) {
      const h = rr.pick(list, null)?.host ?? '';
      counts[h] = (counts[h] ?? 0) + 1;
    }
    expect(counts).toEqual({ a: 300, b: 200, c: 100 });
  });
});
