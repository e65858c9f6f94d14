import { describe, expect, it } from 'vitest';
import { ServiceHistory, countersMoved } from '../src/lib/history.js';
import { counterDelta, maxPeerP99, peerRates, servicePoint } from '../src/lib/rates.js';
import { peer, service } from './fixtures.js';

describe('servicePoint', () => {
  it('computes req/s, errors/s, error rate, retries/s and p99 from two successive views', () => {
    const before = service('web', {
      requests: 100,
      retries: 2,
      responses: { '200': 90, '302': 5, '502': 5 },
      peers: [peer('127.10.0.1:80', { errors: { connect_refused: 1 } }), peer('127.10.0.2:80')],
    });
    const after = service('web', {
      requests: 300,
      retries: 12,
      responses: { '200': 270, '302': 15, '502': 10, '429': 5 },
      peers: [
        peer('127.10.0.1:80', { errors: { connect_refused: 4 }, latencyMs: { p50: 3, p99: 40 } }),
        peer('127.10.0.2:80', { latencyMs: { p50: 2, p99: 85 } }),
      ],
    });
    const point = servicePoint(before, after, 2000, 5000);
    expect(point.requestsPerSec).toBe(100);
    // 200 responses in the interval, 10 of them not 2xx/3xx; plus 3 failed tries.
    expect(point.errorsPerSec).toBe((10 + 3) / 2);
    expect(point.errorRate).toBeCloseTo(10 / 200);
    expect(point.retriesPerSec).toBe(5);
    expect(point.p99Ms).toBe(85);
    expect(point.at).toBe(5000);
  });

  it('never reports a negative rate when a worker restarted and the summed counters went down', () => {
    const before = service('web', {
      requests: 1000,
      retries: 50,
      responses: { '200': 990, '503': 10 },
      peers: [peer('127.10.0.1:80', { errors: { status_5xx: 9 } })],
    });
    const after = service('web', {
      requests: 400,
      retries: 10,
      responses: { '200': 395, '503': 5 },
      peers: [peer('127.10.0.1:80', { errors: { status_5xx: 2 } })],
    });
    const point = servicePoint(before, after, 1000, 2000);
    expect(point.requestsPerSec).toBe(0);
    expect(point.retriesPerSec).toBe(0);
    expect(point.errorsPerSec).toBe(0);
    expect(point.errorRate).toBe(0);
  });

  it('gives zero rates over an empty interval rather than dividing by zero', () => {
    const v = service('web', { requests: 10 });
    expect(servicePoint(v, service('web', { requests: 20 }), 0, 1).requestsPerSec).toBe(0);
  });
});

describe('peer rates and p99', () => {
  it('counts a new peer from zero and a dropped counter as no traffic', () => {
    expect(peerRates(undefined, peer('a', { requests: 20, errors: { header_timeout: 2 } }), 2)).toEqual({
      requestsPerSec: 10,
      errorsPerSec: 1,
      retriesPerSec: 0,
    });
    expect(peerRates(peer('a', { requests: 50 }), peer('a', { requests: 10 }), 1).requestsPerSec).toBe(0);
    expect(counterDelta(5, 3)).toBe(0);
  });

  it('has no p99 when no peer measured one', () => {
    expect(maxPeerP99(service('web', { peers: [peer('a')] }))).toBeNull();
  });
});

describe('ServiceHistory', () => {
  it('takes a point when counters moved, at most one a second', () => {
    const h = new ServiceHistory();
    h.observe(service('web', { requests: 0 }), 0);
    h.observe(service('web', { requests: 50 }), 500);
    expect(h.points('web')).toHaveLength(0);
    h.observe(service('web', { requests: 100 }), 1000);
    expect(h.points('web')).toHaveLength(1);
    expect(h.latestPoint('web')?.requestsPerSec).toBe(100);
  });

  it('does not count a view where only a state changed as an interval without traffic', () => {
    const h = new ServiceHistory();
    h.observe(service('web', { requests: 0 }), 0);
    h.observe(service('web', { requests: 0, panic: true }), 1500);
    h.tick(1500);
    expect(h.points('web')).toHaveLength(0);
    h.observe(service('web', { requests: 200 }), 2000);
    expect(h.latestPoint('web')?.requestsPerSec).toBe(100);
  });

  it('runs a service that went quiet down to zero over the rate window', () => {
    const h = new ServiceHistory(300_000, 1000, 5000, 10_000);
    h.observe(service('web', { requests: 0 }), 0);
    h.observe(service('web', { requests: 100 }), 1000);
    h.tick(4000);
    expect(h.points('web')).toHaveLength(1);
    // Quiet for 5 s: a point, over the window up to now (100 requests in 6 s).
    h.tick(6000);
    expect(h.points('web')).toHaveLength(2);
    expect(h.latestPoint('web')?.requestsPerSec).toBeCloseTo(100 / 6);
    // The window no longer reaches back to the last requests.
    h.tick(11_000);
    expect(h.latestPoint('web')?.requestsPerSec).toBe(0);
  });

  it('reads a steady 20 req/s as 20 on every point, although the counters arrive in 500 ms batches out of step with the ticks', () => {
    // Root cause of the saw (10 to 32 at a steady 20 req/s): each point's rate was taken over the
    // second since the last point, which held one, two or three 500 ms batches of counters.
    const h = new ServiceHistory();
    let requests = 0;
    const rates: number[] = [];
    let nextTick = 370;
    for (let batch = 0; batch <= 240; batch++) {
      // Stats every 500 ms from the worker, plus up to 100 ms of the feed's coalescing.
      const arrival = batch * 500 + ((batch * 37) % 100);
      while (nextTick < arrival) {
        h.tick(nextTick);
        nextTick += 1000;
      }
      if (batch > 0) requests += 10;
      h.observe(service('web', { requests, responses: { '200': requests } }), arrival);
      const point = h.latestPoint('web');
      if (point !== undefined && point.at > 15_000 && rates.at(-1) !== point.requestsPerSec) rates.push(point.requestsPerSec);
    }
    expect(rates.length).toBeGreaterThan(0);
    for (const rate of rates) {
      expect(rate).toBeGreaterThan(19.5);
      expect(rate).toBeLessThan(20.5);
    }
  });

  it('keeps only the last window of points and tells subscribers about new ones', () => {
    const h = new ServiceHistory(10_000, 1000, 5000);
    let told = 0;
    h.subscribe(() => told++);
    h.observe(service('web', { requests: 0 }), 0);
    for (let t = 1; t <= 30; t++) h.observe(service('web', { requests: t * 10 }), t * 1000);
    const points = h.points('web');
    expect(points[0]?.at).toBeGreaterThan(20_000);
    expect(points.at(-1)?.at).toBe(30_000);
    expect(told).toBe(30);
  });

  it('keeps per-peer rates of the last interval and forgets services gone from a snapshot', () => {
    const h = new ServiceHistory();
    h.observe(service('web', { peers: [peer('a', { requests: 0 })] }), 0);
    h.observe(service('web', { requests: 30, peers: [peer('a', { requests: 30 })] }), 1000);
    expect(h.peerRates('web').get('a')?.requestsPerSec).toBe(30);
    h.retain(new Set(['api']));
    expect(h.points('web')).toHaveLength(0);
  });

  it('sees moved counters in requests, responses, retries or peer failures', () => {
    const a = service('web');
    expect(countersMoved(a, service('web', { dns: { ...a.dns, lastRefreshAt: 9 } }))).toBe(false);
    expect(countersMoved(a, service('web', { retries: 1 }))).toBe(true);
    expect(countersMoved(a, service('web', { responses: { '200': 1 } }))).toBe(true);
    expect(countersMoved(a, service('web', { peers: [peer('a', { errors: { connect_refused: 1 } })] }))).toBe(true);
  });
});
