import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Peer } from '../src/index.js';
import { addrs, makeTable } from './helpers.js';

// The table has no clock of its own: time moves only when a caller passes `now`, so a test (or a
// replay) drives ejections and returns to the millisecond without sleeping.
describe("peer table: the caller's clock", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keeps a peer ejected until the caller says its time is up, however late the wall clock is', () => {
    const { table } = makeTable({ baseEjectionMs: 1000 });
    table.setAddresses(addrs(4), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.reportFailure(p, 'connect_refused', 0, 'refused');
    // By the wall clock this ejection ended decades ago; by the caller's it has 1 ms to go.
    table.expireEjections(999);
    expect(table.pick(999, [table.get('127.0.0.2:80'), table.get('127.0.0.3:80'), table.get('127.0.0.4:80')] as Peer[])).toBeNull();
    expect(p.state).toBe('ejected');
    table.expireEjections(1000);
    expect(p).toMatchObject({ state: 'active', reason: 'ejection_expired', since: 1000, lastReturnAt: 1000 });
  });

  it('returns a peer at the time its return probe reports, not when the ejection ended', () => {
    const probes: ((ok: boolean, detail: string, now: number) => void)[] = [];
    const { table, events } = makeTable({ baseEjectionMs: 1000, slowStartMs: 500, returnProbe: (_p, done) => probes.push(done) });
    table.setAddresses(addrs(4), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.reportFailure(p, 'connect_timeout', 0, 'timed out');
    table.expireEjections(1000);
    probes[0]?.(true, 'answered OPTIONS *', 1234);
    expect(p).toMatchObject({ state: 'active', since: 1234, lastReturnAt: 1234, rampStart: 1234 });
    expect(events.at(-1)).toMatchObject({ type: 'peer_returned', at: 1234 });
  });

  it('never reads the wall clock, whatever it is asked', () => {
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('the peer table read Date.now()');
    });
    const probes: ((ok: boolean, detail: string, now: number) => void)[] = [];
    const { table } = makeTable({ slowStartMs: 500, returnProbe: (_p, done) => probes.push(done) });
    table.setAddresses(addrs(3), 0);
    table.setAddresses(addrs(4), 10);
    const [a, b] = table.list() as [Peer, Peer];
    table.acquire(a, false);
    table.suspect(a, 20);
    table.reportSuccess(a, 30);
    table.release(a, 40);
    table.reportFailure(b, 'connect_refused', 50, 'refused');
    table.tick(300);
    table.expireEjections(1050);
    probes[0]?.(false, 'still refused', 1100);
    table.pick(3100);
    probes[1]?.(true, 'connect ok', 3200);
    table.drain(a.address, 3300);
    table.restore(a.address, 3400);
    table.sync(a.address, 'ejected', 'connect_refused', 5000, null, 3500);
    table.setAddresses([], 3600);
    expect(b).toMatchObject({ state: 'active', lastReturnAt: 3200 });
    expect(table.size).toBe(0);
  });
});
