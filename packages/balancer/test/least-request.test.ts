import { describe, expect, it } from 'vitest';
import { LeastRequest, Peer } from '../src/index.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('least request (power of two choices)', () => {
  it('prefers the less loaded of two sampled peers', () => {
    const list = [new Peer('a:80', 0), new Peer('b:80', 0)];
    (list[0] as Peer).inFlight = 10;
    const lr = new LeastRequest(seeded(1));
    for (let i = 0; i < 20; i++) expect(lr.pick(list, null)?.host).toBe('b');
  });

  it('spreads load so in-flight counts stay close', () => {
    const list = Array.from({ length: 10 }, (_, i) => new Peer(`p${i}:80`, 0));
    const lr = new LeastRequest(seeded(7));
    for (let i = 0; i < 1000; i++) {
      const p = lr.pick(list, null) as Peer;
      p.inFlight++;
    }
    const loads = list.map((p) => p.inFlight);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(3);
  });

  it('never returns a tried peer and returns null when all were tried', () => {
    const list = Array.from({ length: 3 }, (_, i) => new Peer(`p${i}:80`, 0));
    const lr = new LeastRequest(seeded(3));
    const tried = [list[0] as Peer, list[2] as Peer];
    for (let i = 0; i < 50; i++) expect(lr.pick(list, tried)?.host).toBe('p1');
    expect(lr.pick(list, list)).toBeNull();
  });
});
