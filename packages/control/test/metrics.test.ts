import type { EventView, FleetView, PeerView, ServiceView } from '@podgate/protocol';
import { describe, expect, it } from 'vitest';
import type { ControlApi, ControlChange } from '../src/control-api.js';
import type { PeerStats, ServiceStats, WorkerStats } from '@podgate/proxy';
import { PodgateMetrics } from '../src/metrics/metrics.js';

/*
 * A unit test of the renderer: the control plane is a data object. The admin API's integration
 * test scrapes the real thing.
 */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format 0.0.4: comments, then `name{label="value",...} value` lines. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment !== null) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      if (kind === 'HELP') helps.add(name);
      else types.set(name, rest);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText = '', valueText] = m as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
    let consumed = 0;
    for (let l = labelRe.exec(labelText); l !== null; l = labelRe.exec(labelText)) {
      labels[l[1] as string] = l[2] as string;
      consumed = labelRe.lastIndex;
    }
    if (consumed !== labelText.length) throw new Error(`bad labels: ${line}`);
    const value = valueText === '+Inf' ? Infinity : Number(valueText);
    if (Number.isNaN(value)) throw new Error(`bad value: ${line}`);
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(family) || !helps.has(family)) throw new Error(`sample before its # HELP and # TYPE: ${line}`);
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

function find(samples: Sample[], name: string, labels: Record<string, string>): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = find(samples, name, labels);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

function peerView(address: string, state: PeerView['state'] = 'active'): PeerView {
  return {
    address,
    state,
    reason: 'dns',
    since: 0,
    hold: null,
    inFlight: 0,
    requests: 0,
    retries: 0,
    errors: {},
    ejections: 0,
    returnsAt: null,
    lastFailure: null,
    latencyMs: null,
    heldBy: null,
    ejectedBy: null,
  };
}

function serviceView(name: string, peers: PeerView[], dns: Partial<ServiceView['dns']> = {}): ServiceView {
  return {
    name,
    source: 'config',
    dnsName: `${name}.default.svc.cluster.local`,
    port: 8080,
    routes: [{ pathPrefix: '/' }],
    algorithm: 'round_robin',
    panic: false,
    dns: {
      name: `${name}.default.svc.cluster.local`,
      lastRefreshAt: null,
      lastSuccessAt: null,
      lastError: null,
      lastKnownGoodAgeMs: null,
      nextRefreshAt: null,
      addresses: peers.map((p) => p.address),
      refreshes: { resolved: 0, failed: 0, empty: 0 },
      ...dns,
    },
    requests: 0,
    inFlight: 0,
    retries: 0,
    responses: {},
    peers,
  };
}

function peerStats(address: string, stats: Partial<PeerStats> = {}): PeerStats {
  return { address, inFlight: 0, requests: 0, retries: 0, failures: {}, lastFailure: null, latency: [], ...stats };
}

function serviceStats(name: string, stats: Partial<ServiceStats> = {}): ServiceStats {
  return {
    name,
    inFlight: 0,
    requests: 0,
    retries: 0,
    budgetExhausted: 0,
    connectHedges: 0,
    hedges: 0,
    rescued: 0,
    probes: { ok: 0, failed: 0 },
    responses: {},
    duration: [],
    durationSumMs: 0,
    peers: [],
    ...stats,
  };
}

/** The control plane as data: tests replace `services` and `workers` between scrapes. */
class FixedControl implements ControlApi {
  services: ServiceView[] = [];
  workers: WorkerStats[] = [];
  listeners = new Set<(change: ControlChange) => void>();
  private nextEventId = 1;

  fleetView: FleetView = { name: null, state: 'off', since: 0, error: null, version: 0, self: 'test', instances: [] };

  listServices(): ServiceView[] {
    return this.services;
  }
  fleet(): FleetView {
    return this.fleetView;
  }
  workerStats(): readonly WorkerStats[] {
    return this.workers;
  }
  subscribe(listener: (change: ControlChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: Omit<EventView, 'id' | 'at' | 'level'>): void {
    for (const listener of this.listeners) listener({ kind: 'event', event: { id: this.nextEventId++, at: 0, level: 'notice', ...event } });
  }
  getService(): ServiceView | null {
    throw new Error('not used by metrics');
  }
  addService(): Promise<ServiceView> {
    throw new Error('not used by metrics');
  }
  removeService(): Promise<void> {
    throw new Error('not used by metrics');
  }
  peerAction(): Promise<PeerView> {
    throw new Error('not used by metrics');
  }
  events(): never {
    throw new Error('not used by metrics');
  }
  ready(): boolean {
    return true;
  }
}

async function scrape(metrics: PodgateMetrics): Promise<Sample[]> {
  return parse(await metrics.render()).samples;
}

describe('metrics', () => {
  it('sums the counters of two workers', async () => {
    const control = new FixedControl();
    control.services = [serviceView('web', [peerView('127.10.0.1:8080')])];
    control.workers = [
      {
        worker: 1,
        at: 0,
        services: [
          serviceStats('web', {
            inFlight: 2,
            retries: 3,
            budgetExhausted: 1,
            connectHedges: 1,
            hedges: 2,
            responses: { '200': 10, '502': 1 },
            peers: [peerStats('127.10.0.1:8080', { requests: 14, inFlight: 2, failures: { connect_refused: 1 } })],
          }),
        ],
      },
      {
        worker: 2,
        at: 0,
        services: [
          serviceStats('web', {
            inFlight: 1,
            retries: 4,
            budgetExhausted: 2,
            connectHedges: 4,
            hedges: 8,
            responses: { '200': 5, '503': 2 },
            peers: [peerStats('127.10.0.1:8080', { requests: 6, inFlight: 1, failures: { connect_refused: 2, status_5xx: 1 } })],
          }),
        ],
      },
    ];
    const metrics = new PodgateMetrics(control);
    const samples = await scrape(metrics);
    expect(value(samples, 'podgate_requests_total', { service: 'web', status: '200' })).toBe(15);
    expect(value(samples, 'podgate_requests_total', { service: 'web', status: '502' })).toBe(1);
    expect(value(samples, 'podgate_requests_total', { service: 'web', status: '503' })).toBe(2);
    expect(value(samples, 'podgate_retries_total', { service: 'web' })).toBe(7);
    expect(value(samples, 'podgate_retry_budget_exhausted_total', { service: 'web' })).toBe(3);
    expect(value(samples, 'podgate_connect_hedges_total', { service: 'web' })).toBe(5);
    expect(value(samples, 'podgate_hedges_total', { service: 'web' })).toBe(10);
    expect(value(samples, 'podgate_in_flight_requests', { service: 'web' })).toBe(3);
    const peer = { service: 'web', peer: '127.10.0.1:8080' };
    expect(value(samples, 'podgate_upstream_tries_total', { ...peer, outcome: 'connect_refused' })).toBe(3);
    expect(value(samples, 'podgate_upstream_tries_total', { ...peer, outcome: 'status_5xx' })).toBe(1);
    // 20 tries, 3 in flight, 4 failed.
    expect(value(samples, 'podgate_upstream_tries_total', { ...peer, outcome: 'ok' })).toBe(13);
    metrics.close();
  });

  it('writes the duration histogram with cumulative buckets that end at +Inf = count', async () => {
    const control = new FixedControl();
    control.services = [serviceView('web', [])];
    // Per bucket: 3 at ≤ 1 ms, 2 at ≤ 5 ms, 1 at ≤ 1 s, 1 past 30 s (+Inf), from two workers.
    const perBucket = (a: number, b: number, c: number, inf: number) => [a, 0, b, 0, 0, 0, 0, 0, 0, c, 0, 0, 0, 0, inf];
    control.workers = [
      { worker: 1, at: 0, services: [serviceStats('web', { duration: perBucket(2, 1, 1, 0), durationSumMs: 1_000 })] },
      { worker: 2, at: 0, services: [serviceStats('web', { duration: perBucket(1, 1, 0, 1), durationSumMs: 40_500 })] },
    ];
    const metrics = new PodgateMetrics(control);
    const { samples, types } = parse(await metrics.render());
    expect(types.get('podgate_request_duration_seconds')).toBe('histogram');
    const buckets = find(samples, 'podgate_request_duration_seconds_bucket', { service: 'web' });
    expect(buckets.map((b) => b.labels.le)).toEqual([
      '0.001',
      '0.002',
      '0.005',
      '0.01',
      '0.02',
      '0.05',
      '0.1',
      '0.2',
      '0.5',
      '1',
      '2',
      '5',
      '10',
      '30',
      '+Inf',
    ]);
    expect(buckets.map((b) => b.value)).toEqual([3, 3, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 7]);
    expect(value(samples, 'podgate_request_duration_seconds_count', { service: 'web' })).toBe(7);
    expect(value(samples, 'podgate_request_duration_seconds_sum', { service: 'web' })).toBe(41.5);
    metrics.close();
  });

  it("removes a peer's label sets once it left the control plane and every worker", async () => {
    const control = new FixedControl();
    const stats = (...addresses: string[]): WorkerStats[] => [
      { worker: 1, at: 0, services: [serviceStats('web', { peers: addresses.map((a) => peerStats(a, { requests: 5, failures: { header_timeout: 1 } })) })] },
    ];
    control.services = [serviceView('web', [peerView('127.10.0.1:8080'), peerView('127.10.0.2:8080', 'terminating')])];
    control.workers = stats('127.10.0.1:8080', '127.10.0.2:8080');
    const metrics = new PodgateMetrics(control);
    const before = await scrape(metrics);
    expect(find(before, 'podgate_upstream_tries_total', { peer: '127.10.0.2:8080' })).toHaveLength(2);
    expect(value(before, 'podgate_peers', { service: 'web', state: 'terminating' })).toBe(1);

    control.services = [serviceView('web', [peerView('127.10.0.1:8080')])];
    control.workers = stats('127.10.0.1:8080');
    const after = await scrape(metrics);
    expect(find(after, 'podgate_upstream_tries_total', { peer: '127.10.0.2:8080' })).toEqual([]);
    expect(find(after, 'podgate_upstream_tries_total', { peer: '127.10.0.1:8080' })).toHaveLength(2);
    expect(value(after, 'podgate_peers', { service: 'web', state: 'terminating' })).toBe(0);
    metrics.close();
  });

  it('keeps a peer that left DNS while a worker still reports it', async () => {
    const control = new FixedControl();
    control.services = [serviceView('web', [])];
    control.workers = [{ worker: 1, at: 0, services: [serviceStats('web', { peers: [peerStats('127.10.0.9:8080', { requests: 4 })] })] }];
    const metrics = new PodgateMetrics(control);
    expect(value(await scrape(metrics), 'podgate_upstream_tries_total', { peer: '127.10.0.9:8080', outcome: 'ok' })).toBe(4);
    metrics.close();
  });

  it('counts peer_ejected events by reason, and stops counting once closed', async () => {
    const control = new FixedControl();
    control.services = [serviceView('web', [])];
    const metrics = new PodgateMetrics(control);
    control.emit({ type: 'peer_ejected', service: 'web', address: '127.10.0.1:8080', reason: 'connect_refused' });
    control.emit({ type: 'peer_ejected', service: 'web', address: '127.10.0.2:8080', reason: 'connect_refused' });
    control.emit({ type: 'peer_ejected', service: 'web', address: '127.10.0.1:8080', reason: 'consecutive_5xx' });
    control.emit({ type: 'peer_returned', service: 'web', address: '127.10.0.1:8080', reason: 'ejection_expired' });
    const samples = await scrape(metrics);
    expect(value(samples, 'podgate_ejections_total', { service: 'web', reason: 'connect_refused' })).toBe(2);
    expect(value(samples, 'podgate_ejections_total', { service: 'web', reason: 'consecutive_5xx' })).toBe(1);
    expect(find(samples, 'podgate_ejections_total', {})).toHaveLength(2);

    metrics.close();
    expect(control.listeners.size).toBe(0);
  });

  it('forgets the ejections of a removed service', async () => {
    const control = new FixedControl();
    const metrics = new PodgateMetrics(control);
    control.emit({ type: 'peer_ejected', service: 'old', address: '127.10.0.1:8080', reason: 'operator_eject' });
    expect(value(await scrape(metrics), 'podgate_ejections_total', { service: 'old', reason: 'operator_eject' })).toBe(1);
    for (const listener of control.listeners) listener({ kind: 'service_removed', name: 'old' });
    expect(find(await scrape(metrics), 'podgate_ejections_total', { service: 'old' })).toEqual([]);
    metrics.close();
  });

  it('counts peers by state, with 0 for every state no peer is in', async () => {
    const control = new FixedControl();
    control.services = [serviceView('web', [peerView('127.10.0.1:8080'), peerView('127.10.0.2:8080'), peerView('127.10.0.3:8080', 'draining')])];
    const metrics = new PodgateMetrics(control);
    const samples = await scrape(metrics);
    const byState = Object.fromEntries(find(samples, 'podgate_peers', { service: 'web' }).map((s) => [s.labels.state, s.value]));
    expect(byState).toEqual({ active: 2, ejected: 0, draining: 1, drained: 0, terminating: 0 });
    metrics.close();
  });

  it('counts known-dead peers apart from the other ejected ones, and shows panic', async () => {
    const control = new FixedControl();
    const ejected = (address: string, reason: string): PeerView => ({ ...peerView(address, 'ejected'), reason, returnsAt: 1 });
    control.services = [
      {
        ...serviceView('web', [
          ejected('127.10.0.1:8080', 'connect_refused'),
          ejected('127.10.0.2:8080', 'stalled'),
          ejected('127.10.0.3:8080', 'consecutive_5xx'),
          peerView('127.10.0.4:8080'),
        ]),
        panic: true,
      },
    ];
    const metrics = new PodgateMetrics(control);
    const samples = await scrape(metrics);
    expect(value(samples, 'podgate_peers_known_dead', { service: 'web' })).toBe(2);
    expect(value(samples, 'podgate_panic', { service: 'web' })).toBe(1);
    metrics.close();
  });

  it('shows DNS refreshes by result and the last success time in seconds', async () => {
    const control = new FixedControl();
    control.services = [serviceView('web', [], { lastSuccessAt: 1_700_000_000_500, refreshes: { resolved: 7, failed: 2, empty: 1 } }), serviceView('new', [])];
    const metrics = new PodgateMetrics(control);
    const samples = await scrape(metrics);
    expect(value(samples, 'podgate_dns_refreshes_total', { service: 'web', result: 'resolved' })).toBe(7);
    expect(value(samples, 'podgate_dns_refreshes_total', { service: 'web', result: 'failed' })).toBe(2);
    expect(value(samples, 'podgate_dns_refreshes_total', { service: 'web', result: 'empty' })).toBe(1);
    expect(value(samples, 'podgate_dns_last_success_timestamp_seconds', { service: 'web' })).toBe(1_700_000_000.5);
    expect(value(samples, 'podgate_dns_last_success_timestamp_seconds', { service: 'new' })).toBe(0);
    metrics.close();
  });

  it('does not lower the ok tries while a failed try is still in flight', async () => {
    // A 5xx is counted as a failure at its header; the try is released after its body.
    const control = new FixedControl();
    control.services = [serviceView('web', [peerView('127.10.0.1:8080')])];
    const at = (requests: number, inFlight: number, failed: number): WorkerStats[] => [
      {
        worker: 1,
        at: 0,
        services: [serviceStats('web', { peers: [peerStats('127.10.0.1:8080', { requests, inFlight, failures: failed > 0 ? { status_5xx: failed } : {} })] })],
      },
    ];
    const metrics = new PodgateMetrics(control);
    const ok = async () => value(await scrape(metrics), 'podgate_upstream_tries_total', { peer: '127.10.0.1:8080', outcome: 'ok' });
    control.workers = at(10, 0, 0);
    expect(await ok()).toBe(10);
    control.workers = at(11, 1, 1);
    expect(await ok()).toBe(10);
    control.workers = at(11, 0, 1);
    expect(await ok()).toBe(10);
    // A worker restarted: the drop is larger than what is in flight, and goes through.
    control.workers = at(2, 0, 0);
    expect(await ok()).toBe(2);
    metrics.close();
  });

  it('shows which front serves clients: 1 for the one the workers run, 0 for the other', async () => {
    const control = new FixedControl();
    const metrics = new PodgateMetrics(control);
    control.workers = [
      { worker: 1, at: 0, front: 'node', services: [] },
      { worker: 2, at: 0, front: 'node', services: [] },
    ];
    const samples = await scrape(metrics);
    expect(value(samples, 'podgate_front', { front: 'node' })).toBe(1);
    expect(value(samples, 'podgate_front', { front: 'native' })).toBe(0);
    metrics.close();
  });

  it('writes valid Prometheus text with HELP and TYPE for every metric', async () => {
    const control = new FixedControl();
    control.services = [serviceView('web "a"\\b', [peerView('[fd00::1]:8080')])];
    control.workers = [
      { worker: 1, at: 0, services: [serviceStats('web "a"\\b', { responses: { '200': 1 }, peers: [peerStats('[fd00::1]:8080', { requests: 1 })] })] },
    ];
    const metrics = new PodgateMetrics(control);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parse(await metrics.render());
    expect([...types.keys()].sort()).toEqual([
      'podgate_connect_hedges_total',
      'podgate_dns_last_success_timestamp_seconds',
      'podgate_dns_refreshes_total',
      'podgate_ejections_total',
      'podgate_fleet_instances',
      'podgate_fleet_state',
      'podgate_fleet_version',
      'podgate_front',
      'podgate_hedges_total',
      'podgate_in_flight_requests',
      'podgate_panic',
      'podgate_peers',
      'podgate_peers_known_dead',
      'podgate_probes_total',
      'podgate_request_duration_seconds',
      'podgate_requests_total',
      'podgate_rescued_total',
      'podgate_retries_total',
      'podgate_retry_budget_exhausted_total',
      'podgate_upstream_tries_total',
    ]);
    expect(value(samples, 'podgate_requests_total', { service: 'web \\"a\\"\\\\b', status: '200' })).toBe(1);
    metrics.close();
  });

  it('shows the fleet state, its instances and the version applied, and nothing of a fleet outside one', async () => {
    const control = new FixedControl();
    const metrics = new PodgateMetrics(control);
    expect((await metrics.render()).includes('podgate_fleet_state{')).toBe(false);
    const instance = { id: 'a:8080', proxy: '127.0.0.1:8080', admin: '127.0.0.1:9901', version: '0.1.0', startedAt: 0, self: true };
    control.fleetView = {
      name: 'images',
      state: 'degraded',
      since: 0,
      error: 'connect ECONNREFUSED',
      version: 42,
      self: 'a:8080',
      instances: [instance, { ...instance, id: 'b:8080', self: false }],
    };
    const { samples } = parse(await metrics.render());
    expect(value(samples, 'podgate_fleet_state', { fleet: 'images', state: 'degraded' })).toBe(1);
    expect(value(samples, 'podgate_fleet_state', { fleet: 'images', state: 'ok' })).toBe(0);
    expect(value(samples, 'podgate_fleet_instances', { fleet: 'images' })).toBe(2);
    expect(value(samples, 'podgate_fleet_version', { fleet: 'images' })).toBe(42);
    metrics.close();
  });
});
