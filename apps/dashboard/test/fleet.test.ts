import { describe, expect, it } from 'vitest';
import { adminHref, ejectedByText, fleetStateLabel, formatUptime, heldByText, isFleetDegraded } from '../src/lib/fleet.js';
import { fleet, peer } from './fixtures.js';

const SELF = 'host:8080';
const held = (hold: 'drain' | 'eject', instance: string | null) => peer('127.10.0.7:8080', { hold, heldBy: { actor: 'alice', instance, at: 5_000 } });

describe('who held a peer', () => {
  it('names the actor and the instance a drain went through', () => {
    expect(heldByText(held('drain', 'host:8081'), SELF)).toBe('drained by alice via host:8081');
  });

  it('says ejected for a manual ejection', () => {
    expect(heldByText(held('eject', 'host:8081'), SELF)).toBe('ejected by alice via host:8081');
  });

  it('leaves out the instance when it was this one', () => {
    expect(heldByText(held('drain', SELF), SELF)).toBe('drained by alice');
  });

  it('leaves out the instance outside a fleet (null)', () => {
    expect(heldByText(held('drain', null), SELF)).toBe('drained by alice');
    expect(heldByText(held('drain', null), null)).toBe('drained by alice');
  });

  it('says nothing for a peer nobody held', () => {
    expect(heldByText(peer('127.10.0.7:8080'), SELF)).toBeNull();
  });
});

describe('whose evidence ejected a peer', () => {
  it('names the other instance', () => {
    expect(ejectedByText(peer('127.10.0.7:8080', { state: 'ejected', ejectedBy: 'host:8081' }), SELF)).toBe("ejected on host:8081's evidence");
  });

  it("says nothing for this instance's own evidence or none", () => {
    expect(ejectedByText(peer('127.10.0.7:8080', { state: 'ejected', ejectedBy: null }), SELF)).toBeNull();
    expect(ejectedByText(peer('127.10.0.7:8080', { state: 'ejected', ejectedBy: SELF }), SELF)).toBeNull();
  });
});

describe('fleet state', () => {
  it('labels each state, "not in a fleet" for off', () => {
    expect(['off', 'connecting', 'ok', 'degraded'].map(fleetStateLabel)).toEqual(['not in a fleet', 'connecting', 'ok', 'degraded']);
  });

  it('shows a state this build does not know as the server spells it', () => {
    expect(fleetStateLabel('resyncing')).toBe('resyncing');
  });

  it('is degraded only in state degraded, and not before the fleet is known', () => {
    expect(isFleetDegraded(fleet({ state: 'degraded', error: 'connect ECONNREFUSED 127.0.0.1:6379' }))).toBe(true);
    expect(isFleetDegraded(fleet({ state: 'connecting' }))).toBe(false);
    expect(isFleetDegraded(fleet())).toBe(false);
    expect(isFleetDegraded(undefined)).toBe(false);
  });
});

describe("an instance's dashboard", () => {
  it('links to http://<admin>/', () => {
    expect(adminHref('127.0.0.1:9901')).toBe('http://127.0.0.1:9901/');
    expect(adminHref('podgate-0.podgate.ops:9901')).toBe('http://podgate-0.podgate.ops:9901/');
  });

  it('puts an IPv6 host in brackets', () => {
    expect(adminHref('::1:9901')).toBe('http://[::1]:9901/');
    expect(adminHref('[fd00::7]:9901')).toBe('http://[fd00::7]:9901/');
  });

  it('gives no link for an address bound to every interface or without a port', () => {
    expect(adminHref('0.0.0.0:9901')).toBeNull();
    expect(adminHref(':::9901')).toBeNull();
    expect(adminHref('127.0.0.1')).toBeNull();
    expect(adminHref('')).toBeNull();
  });
});

describe('uptime', () => {
  it('counts whole seconds, then minutes and hours', () => {
    expect(formatUptime(1_000, 43_700)).toBe('42 s');
    expect(formatUptime(0, 125_400)).toBe('2 m 5 s');
    expect(formatUptime(0, 3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
  });

  it("reads a start ahead of this browser's clock as 0 s", () => {
    expect(formatUptime(10_000, 9_000)).toBe('0 s');
  });
});
