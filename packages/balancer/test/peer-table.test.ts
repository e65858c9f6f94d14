import { describe, expect, it } from 'vitest';
import type { Peer } from '../src/index.js';
import { addrs, makeTable, sequence } from './helpers.js';

describe('peer table: DNS diffs', () => {
  it('adds peers from a DNS answer and balances round robin over them', () => {
    const { table, events } = makeTable();
    expect(table.setAddresses(addrs(3), 0)).toEqual({ added: addrs(3), removed: [] });
    expect(sequence(table, 6)).toEqual([...addrs(3), ...addrs(3)]);
    expect(events.filter((e) => e.type === 'peer_added')).toHaveLength(3);
  });

  it('keeps state and counters of peers that stay across refreshes', () => {
    const { table } = makeTable();
    table.setAddresses(addrs(3), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.acquire(p, false);
    table.release(p, 1);
    table.reportFailure(table.get('127.0.0.2:80') as Peer, 'connect_refused', 1, 'refused');
    table.setAddresses([...addrs(3), '127.0.0.9:80'], 2);
    expect(table.get('127.0.0.1:80')).toBe(p);
    expect(p.requests).toBe(1);
    expect(table.get('127.0.0.2:80')?.state).toBe('ejected');
  });

  it('removes an idle peer gone from DNS at once and a busy one when its requests end', () => {
    const { table, events } = makeTable();
    const removed: string[] = [];
    const t = makeTable({ onRemove: (p) => removed.push(p.address) }).table;
    t.setAddresses(addrs(2), 0);
    const busy = t.get('127.0.0.2:80') as Peer;
    t.acquire(busy, false);
    t.setAddresses([], 1);
    expect(removed).toEqual(['127.0.0.1:80']);
    expect(busy.state).toBe('terminating');
    expect(t.pick(1)).toBeNull();
    t.release(busy, 2);
    expect(removed).toEqual(['127.0.0.1:80', '127.0.0.2:80']);
    expect(t.size).toBe(0);
    table.setAddresses(addrs(1), 0);
    table.setAddresses([], 1);
    expect(events.map((e) => e.type)).toEqual(['peer_added', 'peer_removed']);
  });

  it('brings a terminating peer back when DNS lists it again', () => {
    const { table } = makeTable();
    table.setAddresses(addrs(2), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.acquire(p, false);
    table.setAddresses(addrs(2).slice(1), 1);
    expect(p.state).toBe('terminating');
    table.setAddresses(addrs(2), 2);
    expect(p.state).toBe('active');
    expect(table.get('127.0.0.1:80')).toBe(p);
  });
});

describe('peer table: passive ejection', () => {
  it('ejects at once on connect refused and stops picking the peer', () => {
    const { table, events } = makeTable();
    table.setAddresses(addrs(4), 0);
    const p = table.get('127.0.0.2:80') as Peer;
    expect(table.reportFailure(p, 'connect_refused', 10, 'connect() failed (111: Connection refused)')).toBe(true);
    expect(p.state).toBe('ejected');
    expect(p.ejectedUntil).toBe(1010);
    expect(sequence(table, 6, 20)).not.toContain('127.0.0.2:80');
    const ev = events.find((e) => e.type === 'peer_ejected');
    expect(ev).toMatchObject({ address: '127.0.0.2:80', reason: 'connect_refused', until: 1010 });
  });

  it('ejects on closed-before-header at once but on 5xx only after the consecutive threshold', () => {
    const { table } = makeTable({ consecutive5xx: 3 });
    table.setAddresses(addrs(4), 0);
    const a = table.get('127.0.0.1:80') as Peer;
    const b = table.get('127.0.0.2:80') as Peer;
    expect(table.reportFailure(a, 'closed_before_header', 1, 'closed')).toBe(true);
    expect(table.reportFailure(b, 'status_5xx', 1, '502')).toBe(false);
    table.reportSuccess(b, 1);
    expect(table.reportFailure(b, 'status_5xx', 2, '502')).toBe(false);
    expect(table.reportFailure(b, 'header_timeout', 3, 'timeout')).toBe(false);
    expect(table.reportFailure(b, 'status_5xx', 4, '502')).toBe(true);
    expect(b.reason).toBe('consecutive_5xx');
  });

  it('returns an ejected peer by itself after its ejection time', () => {
    const { table, events } = makeTable();
    table.setAddresses(addrs(4), 0);
    const p = table.get('127.0.0.3:80') as Peer;
    table.reportFailure(p, 'connect_timeout', 0, 'timed out');
    expect(table.nextReturnAt).toBe(1000);
    table.pick(999);
    expect(p.state).toBe('ejected');
    table.pick(1000);
    expect(p.state).toBe('active');
    expect(events.at(-1)).toMatchObject({ type: 'peer_returned', reason: 'ejection_expired' });
    expect(table.nextReturnAt).toBe(Infinity);
  });

  it('grows the ejection time with each ejection and caps it', () => {
    const { table } = makeTable({ baseEjectionMs: 1000, maxEjectionMs: 2500 });
    table.setAddresses(addrs(4), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    const lengths: number[] = [];
    let now = 0;
    for (let i = 0; i < 4; i++) {
      table.reportFailure(p, 'connect_refused', now, 'x');
      lengths.push((p.ejectedUntil as number) - now);
      now = p.ejectedUntil as number;
      table.expireEjections(now);
    }
    expect(lengths).toEqual([1000, 2000, 2500, 2500]);
  });

  it('forgets earlier ejections after a long healthy spell', () => {
    const { table } = makeTable({ baseEjectionMs: 1000, maxEjectionMs: 2500 });
    table.setAddresses(addrs(4), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.reportFailure(p, 'connect_refused', 0, 'x');
    table.expireEjections(1000);
    table.reportFailure(p, 'connect_refused', 1000 + 2501, 'x');
    expect((p.ejectedUntil as number) - 3501).toBe(1000);
  });

  it('enters panic past the max ejected share and routes to peers ejected on response errors rather than fail', () => {
    const { table, events } = makeTable({ maxEjectedPercent: 50 });
    table.setAddresses(addrs(4), 0);
    const fail5xx = (address: string): void => {
      for (let i = 0; i < 3; i++) table.reportFailure(table.get(address) as Peer, 'status_5xx', 0, 'upstream answered 500');
    };
    fail5xx('127.0.0.1:80');
    fail5xx('127.0.0.2:80');
    expect(table.inPanic).toBe(false);
    expect(new Set(sequence(table, 8))).toEqual(new Set(['127.0.0.3:80', '127.0.0.4:80']));
    fail5xx('127.0.0.3:80');
    expect(table.inPanic).toBe(true);
    expect(new Set(sequence(table, 8)).size).toBe(4);
    const entered = events.find((e) => e.type === 'panic_entered');
    expect(entered?.detail).toContain('127.0.0.1:80, 127.0.0.2:80, 127.0.0.3:80');
    table.expireEjections(10_000);
    expect(table.inPanic).toBe(false);
    expect(events.at(-1)?.type).toBe('panic_left');
  });
});

// Issue 12: with DNS 30 s behind a rollout, three of four known pods refused connections, panic
// routed to them, and 3,773 requests failed in 3 s. A pod known to be gone is never picked.
describe('peer table: known-dead peers', () => {
  it.each(['connect_refused', 'connect_timeout', 'connect_unreachable', 'reset_before_header'] as const)(
    'never picks a peer ejected for %s, even past the max ejected share: the last live peer takes everything',
    (cause) => {
      const { table, events } = makeTable({ maxEjectedPercent: 50 });
      table.setAddresses(addrs(4), 0);
      for (const a of addrs(3)) table.reportFailure(table.get(a) as Peer, cause, 0, 'x');
      expect(table.inPanic).toBe(false);
      expect(sequence(table, 8)).toEqual(Array(8).fill('127.0.0.4:80'));
      expect(events.some((e) => e.type === 'panic_entered')).toBe(false);
    },
  );

  it.each(['probe_failed', 'stalled'] as const)('never picks a peer a probe found dead (%s)', (reason) => {
    const { table } = makeTable({ maxEjectedPercent: 0 });
    table.setAddresses(addrs(2), 0);
    table.ejectPeer(table.get('127.0.0.1:80') as Peer, reason, 0, 'probe: connect() timed out');
    expect(sequence(table, 4)).toEqual(Array(4).fill('127.0.0.2:80'));
  });

  it('picks nothing when every peer is known dead, rather than send tries that must fail', () => {
    const { table } = makeTable();
    table.setAddresses(addrs(2), 0);
    for (const a of addrs(2)) table.reportFailure(table.get(a) as Peer, 'connect_refused', 0, 'x');
    expect(table.pick(0)).toBeNull();
    expect(table.usable).toBe(0);
  });

  it('routes in panic only to the peers ejected on response errors, not to the known dead', () => {
    const { table, events } = makeTable({ maxEjectedPercent: 50 });
    table.setAddresses(addrs(4), 0);
    for (let i = 0; i < 3; i++) table.reportFailure(table.get('127.0.0.1:80') as Peer, 'status_5xx', 0, 'x');
    table.reportFailure(table.get('127.0.0.2:80') as Peer, 'connect_refused', 0, 'x');
    table.reportFailure(table.get('127.0.0.3:80') as Peer, 'connect_refused', 0, 'x');
    expect(table.inPanic).toBe(true);
    expect(new Set(sequence(table, 8))).toEqual(new Set(['127.0.0.1:80', '127.0.0.4:80']));
    expect(events.find((e) => e.type === 'panic_entered')?.detail).toBe(
      '1 of 4 peers active: also routing to 1 ejected on response errors (127.0.0.1:80), never to 2 known dead',
    );
  });

  it('marks a peer picked in panic known dead when it then refuses a connection', () => {
    const { table, events } = makeTable({ maxEjectedPercent: 0 });
    table.setAddresses(addrs(2), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    for (let i = 0; i < 3; i++) table.reportFailure(p, 'status_5xx', 0, 'x');
    expect(table.inPanic).toBe(true);
    const until = p.ejectedUntil;
    expect(table.reportFailure(p, 'connect_refused', 5, 'connect() failed (111: Connection refused)')).toBe(true);
    expect(p).toMatchObject({ state: 'ejected', reason: 'connect_refused', ejectedUntil: until });
    expect(table.inPanic).toBe(false);
    expect(sequence(table, 4)).toEqual(Array(4).fill('127.0.0.2:80'));
    expect(events.at(-2)).toMatchObject({ type: 'peer_ejected', reason: 'connect_refused' });
  });

  it('keeps a known-dead peer ejected when a stale DNS answer still lists it', () => {
    const { table } = makeTable();
    table.setAddresses(addrs(2), 0);
    table.reportFailure(table.get('127.0.0.1:80') as Peer, 'connect_refused', 0, 'x');
    table.setAddresses(addrs(2), 10);
    expect(table.get('127.0.0.1:80')?.state).toBe('ejected');
    expect(sequence(table, 2, 10)).toEqual(['127.0.0.2:80', '127.0.0.2:80']);
  });

  it('brings a known-dead address that DNS dropped and lists again back ejected, to return through its probe', () => {
    const probed: string[] = [];
    const { table } = makeTable({ returnProbe: (peer, done) => (probed.push(peer.address), done(true, 'probe: connected', 1000)) });
    table.setAddresses(addrs(2), 0);
    table.reportFailure(table.get('127.0.0.1:80') as Peer, 'connect_refused', 0, 'x');
    table.setAddresses(addrs(2).slice(1), 100);
    expect(table.get('127.0.0.1:80')).toBeUndefined();
    table.setAddresses(addrs(2), 200);
    expect(table.get('127.0.0.1:80')).toMatchObject({ state: 'ejected', reason: 'connect_refused', ejectedUntil: 1000 });
    expect(sequence(table, 2, 500)).toEqual(['127.0.0.2:80', '127.0.0.2:80']);
    expect(probed).toEqual([]);
    table.pick(1000);
    expect(probed).toEqual(['127.0.0.1:80']);
    expect(table.get('127.0.0.1:80')?.state).toBe('active');
  });

  it('takes a re-listed address as new once its ejection would have ended', () => {
    const { table } = makeTable();
    table.setAddresses(addrs(2), 0);
    table.reportFailure(table.get('127.0.0.1:80') as Peer, 'connect_refused', 0, 'x');
    table.setAddresses(addrs(2).slice(1), 100);
    table.setAddresses(addrs(2), 1500);
    expect(table.get('127.0.0.1:80')?.state).toBe('active');
  });

  it('follows a reason change decided elsewhere (a replica learns its peer is known dead)', () => {
    const { table } = makeTable({ autoReturn: false, maxEjectedPercent: 0 });
    table.setAddresses(addrs(2), 0);
    table.sync('127.0.0.1:80', 'ejected', 'consecutive_5xx', 1000, null, 0);
    expect(new Set(sequence(table, 4)).size).toBe(2);
    table.sync('127.0.0.1:80', 'ejected', 'connect_refused', 1000, null, 1);
    expect(sequence(table, 4)).toEqual(Array(4).fill('127.0.0.2:80'));
  });
});

describe('peer table: picking', () => {
  it('returns null when every peer is gone or tried', () => {
    const { table } = makeTable();
    expect(table.pick(0)).toBeNull();
    table.setAddresses(addrs(2), 0);
    const first = table.pick(0) as Peer;
    const second = table.pick(0, [first]) as Peer;
    expect(second).not.toBe(first);
    expect(table.pick(0, [first, second])).toBeNull();
  });
});

describe('peer table: operator actions', () => {
  it('drains: no new requests, draining while in flight, drained at zero', () => {
    const { table, events } = makeTable();
    table.setAddresses(addrs(3), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.acquire(p, false);
    table.drain(p.address, 1);
    expect(p.state).toBe('draining');
    expect(sequence(table, 6, 2)).not.toContain(p.address);
    table.release(p, 3);
    expect(p.state).toBe('drained');
    expect(events.slice(-2).map((e) => e.type)).toEqual(['peer_draining', 'peer_drained']);
  });

  it('keeps a drain across DNS refreshes and a flap out of DNS, until restored', () => {
    const { table } = makeTable();
    table.setAddresses(addrs(3), 0);
    table.drain('127.0.0.1:80', 1);
    table.setAddresses(addrs(3), 2);
    expect(table.get('127.0.0.1:80')?.state).toBe('drained');
    table.setAddresses(addrs(3).slice(1), 3);
    expect(table.get('127.0.0.1:80')).toBeUndefined();
    table.setAddresses(addrs(3), 4);
    expect(table.get('127.0.0.1:80')?.state).toBe('drained');
    table.restore('127.0.0.1:80', 5);
    expect(table.get('127.0.0.1:80')?.state).toBe('active');
    expect(sequence(table, 3, 6)).toContain('127.0.0.1:80');
  });

  it('clears a hold when the address left DNS for good', () => {
    const { table } = makeTable({ holdRetentionMs: 100 });
    table.setAddresses(addrs(2), 0);
    table.eject('127.0.0.1:80', 0);
    table.setAddresses(addrs(2).slice(1), 10);
    table.setAddresses(addrs(2).slice(1), 200);
    expect(table.listHolds()).toEqual([]);
    table.setAddresses(addrs(2), 300);
    expect(table.get('127.0.0.1:80')?.state).toBe('active');
  });

  it('ejects by hand with no automatic return and does not count it for panic', () => {
    const { table } = makeTable();
    table.setAddresses(addrs(2), 0);
    const p = table.eject('127.0.0.1:80', 0) as Peer;
    expect(p.state).toBe('ejected');
    expect(p.reason).toBe('operator_eject');
    expect(p.ejectedUntil).toBeNull();
    table.expireEjections(1e9);
    expect(p.state).toBe('ejected');
    expect(table.inPanic).toBe(false);
    expect(sequence(table, 4, 1e9)).toEqual(Array(4).fill('127.0.0.2:80'));
  });

  it('restores an automatically ejected peer early, and repeating an action is harmless', () => {
    const { table, events } = makeTable();
    table.setAddresses(addrs(3), 0);
    const p = table.get('127.0.0.1:80') as Peer;
    table.reportFailure(p, 'connect_refused', 0, 'x');
    table.restore(p.address, 1);
    table.restore(p.address, 2);
    expect(p.state).toBe('active');
    table.drain(p.address, 3);
    const before = events.length;
    table.drain(p.address, 4);
    expect(events.length).toBe(before);
    expect(table.drain('127.9.9.9:80', 5)).toBeUndefined();
  });

  it('holds loaded from the state file apply when DNS lists the address', () => {
    const { table } = makeTable();
    table.loadHolds([{ address: '127.0.0.2:80', hold: 'eject' }], 0);
    table.setAddresses(addrs(2), 1);
    expect(table.get('127.0.0.2:80')?.state).toBe('ejected');
    expect(table.get('127.0.0.2:80')?.reason).toBe('operator_eject');
  });
});
