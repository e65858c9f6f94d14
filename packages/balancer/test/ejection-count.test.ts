import { describe, expect, it } from 'vitest';
import type { Peer } from '../src/index.js';
import { addrs, makeTable } from './helpers.js';

/*
 * Root cause: the API showed `peer.ejections` as a peer's ejections, but that is the automatic
 * ejection multiplier (base × ejections so far, reset after a long healthy spell): an operator's
 * eject never counted, so the dashboard's Ejections column read 0 for a pod ejected by hand.
 * `timesEjected` counts every `peer_ejected` event of the peer, as podgate_ejections_total does.
 */
describe('peer table: ejections counted for operators', () => {
  it('counts an ejection by hand, which leaves the automatic multiplier alone', () => {
    const { table, events } = makeTable();
    table.setAddresses(addrs(3), 0);
    const p = table.eject('127.0.0.1:80', 10) as Peer;
    expect(p.timesEjected).toBe(1);
    expect(p.ejections).toBe(0);
    table.restore(p.address, 20);
    table.eject(p.address, 30);
    expect(p.timesEjected).toBe(2);
    expect(events.filter((e) => e.type === 'peer_ejected' && e.address === p.address)).toHaveLength(2);
  });

  it('counts automatic ejections and keeps counting after the multiplier decays', () => {
    const { table } = makeTable({ baseEjectionMs: 1000, maxEjectionMs: 2500 });
    table.setAddresses(addrs(4), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.reportFailure(p, 'connect_refused', 0, 'x');
    table.expireEjections(1000);
    // Healthy for longer than the longest ejection: the multiplier starts over, the count does not.
    table.reportFailure(p, 'connect_refused', 1000 + 2501, 'x');
    expect(p.ejections).toBe(1);
    expect(p.timesEjected).toBe(2);
  });

  it('does not count a drain, a restore or a repeated eject by hand', () => {
    const { table } = makeTable();
    table.setAddresses(addrs(3), 0);
    const p = table.drain('127.0.0.1:80', 1) as Peer;
    table.restore(p.address, 2);
    expect(p.timesEjected).toBe(0);
    table.eject(p.address, 3);
    table.eject(p.address, 4);
    expect(p.timesEjected).toBe(1);
  });
});
