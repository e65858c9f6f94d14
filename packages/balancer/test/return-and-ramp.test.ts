import { describe, expect, it } from 'vitest';
import type { Peer } from '../src/index.js';
import { addrs, makeTable, sequence } from './helpers.js';

describe('probe only the ejected', () => {
  it('returns an ejected peer only after its return probe passes', () => {
    const probes: ((ok: boolean, detail: string, now: number) => void)[] = [];
    const { table, events } = makeTable({ returnProbe: (_p, done) => probes.push(done) });
    table.setAddresses(addrs(4), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.reportFailure(p, 'connect_timeout', 0, 'x');
    table.expireEjections(999);
    expect(probes).toHaveLength(0);
    table.expireEjections(1000);
    expect(probes).toHaveLength(1);
    table.expireEjections(1100);
    expect(probes).toHaveLength(1);
    expect(p.state).toBe('ejected');
    probes[0]?.(true, 'connect ok', 1150);
    expect(p.state).toBe('active');
    expect(events.at(-1)).toMatchObject({ type: 'peer_returned' });
  });

  it('ejects again, for longer, when the return probe fails', () => {
    const probes: ((ok: boolean, detail: string, now: number) => void)[] = [];
    const { table, events } = makeTable({ returnProbe: (_p, done) => probes.push(done), baseEjectionMs: 1000, maxEjectionMs: 10_000 });
    table.setAddresses(addrs(4), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.reportFailure(p, 'connect_timeout', 0, 'x');
    table.expireEjections(1000);
    probes[0]?.(false, 'connect timed out', 1050);
    expect(p.state).toBe('ejected');
    expect(p.reason).toBe('probe_failed');
    expect(p.ejectedUntil).toBe(1050 + 2000);
    expect(events.at(-1)).toMatchObject({ type: 'peer_ejected', reason: 'probe_failed', detail: 'connect timed out' });
  });

  it('never returns peers by itself in a replica that follows the primary', () => {
    const { table } = makeTable({ autoReturn: false });
    table.setAddresses(addrs(4), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.reportFailure(p, 'connect_refused', 0, 'x');
    table.pick(1e9);
    table.expireEjections(1e9);
    expect(p.state).toBe('ejected');
  });
});

describe('slow start', () => {
  it('ramps a new peer from a tenth of a share to a full one over the window', () => {
    const { table } = makeTable({ slowStartMs: 1000 });
    table.setAddresses(addrs(2), 0);
    table.setAddresses(addrs(3), 0);
    const fresh = table.get('127.0.0.3:80') as Peer;
    expect(fresh.weight).toBe(10);
    table.tick(0);
    const early = sequence(table, 210, 0).filter((a) => a === fresh.address).length;
    expect(early).toBe(10);
    table.tick(500);
    expect(fresh.weight).toBe(50);
    table.tick(1000);
    expect(fresh.weight).toBe(100);
    expect(sequence(table, 300, 1000).filter((a) => a === fresh.address).length).toBe(100);
  });

  it('does not ramp the peers of the first DNS answer', () => {
    const { table } = makeTable({ slowStartMs: 1000 });
    table.setAddresses(addrs(3), 0);
    expect(table.list().map((p) => p.weight)).toEqual([100, 100, 100]);
  });

  it('ramps a peer that returns from an ejection', () => {
    const { table } = makeTable({ slowStartMs: 1000 });
    table.setAddresses(addrs(3), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.reportFailure(p, 'connect_refused', 0, 'x');
    table.expireEjections(1000);
    expect(p.state).toBe('active');
    expect(p.weight).toBe(10);
  });
});
