import { afterEach, describe, expect, it } from 'vitest';
import { formatReport, runLoad } from '../src/load-generator.js';
import { LabPod } from '../src/pod.js';

let nextHost = 1;
const hostBase = `127.202.${process.pid % 250}`;
const pods: LabPod[] = [];

async function startPod(delayMs?: number): Promise<LabPod> {
  const pod = await LabPod.start({ name: `load-${nextHost}`, host: `${hostBase}.${nextHost++}`, port: 0, delayMs });
  pods.push(pod);
  return pod;
}

afterEach(async () => {
  await Promise.all(pods.splice(0).map((p) => p.close()));
});

describe('runLoad', () => {
  it('counts every 2xx answer as ok in a closed loop', async () => {
    const pod = await startPod();
    const r = await runLoad({ url: `http://${pod.address}/recognize`, concurrency: 4, durationMs: 300, bodyBytes: 1024 });
    expect(r.total).toBeGreaterThan(20);
    expect(r.ok).toBe(r.total);
    expect(r.errors).toBe(0);
    expect(r.byStatus).toEqual({ '200': r.total });
    expect(pod.served).toBe(r.total);
    expect(r.perSecond.reduce((a, b) => a + b, 0)).toBe(r.total);
    expect(r.samples).toHaveLength(r.total);
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
    expect(r.latencyMs.p99).toBeLessThanOrEqual(r.latencyMs.max);
  });

  it('counts 503 answers as errors under status_5xx', async () => {
    const pod = await startPod();
    const r = await runLoad({ url: `http://${pod.address}/status/503`, method: 'GET', concurrency: 2, durationMs: 200 });
    expect(r.total).toBeGreaterThan(0);
    expect(r.ok).toBe(0);
    expect(r.errors).toBe(r.total);
    expect(r.byStatus).toEqual({ '503': r.total });
    expect(r.byError).toEqual({ status_5xx: r.total });
  });

  it('keeps the bodies of the first keepErrorBodies non-2xx answers', async () => {
    const pod = await startPod();
    const r = await runLoad({ url: `http://${pod.address}/status/503`, method: 'GET', concurrency: 2, durationMs: 1000, maxRequests: 6, keepErrorBodies: 4 });
    expect(r.total).toBe(6);
    expect(r.errorBodies).toHaveLength(4);
    for (const kept of r.errorBodies ?? []) {
      expect(kept.status).toBe(503);
      expect(JSON.parse(kept.body)).toEqual({ pod: pod.name, status: 503 });
    }
    const none = await runLoad({ url: `http://${pod.address}/status/503`, method: 'GET', concurrency: 1, durationMs: 1000, maxRequests: 2 });
    expect(none.errorBodies).toBeUndefined();
  });

  it('counts refused connects under ECONNREFUSED', async () => {
    const pod = await startPod();
    await pod.terminate('refuse');
    const r = await runLoad({ url: `http://${pod.address}/recognize`, concurrency: 2, durationMs: 100, maxRequests: 10 });
    expect(r.total).toBe(10);
    expect(r.byError).toEqual({ ECONNREFUSED: 10 });
    expect(r.byStatus).toEqual({});
  });

  it('counts connections closed before the answer as UND_ERR_SOCKET', async () => {
    const pod = await startPod();
    const r = await runLoad({ url: `http://${pod.address}/close`, method: 'GET', concurrency: 1, durationMs: 1000, maxRequests: 5 });
    expect(r.byError).toEqual({ UND_ERR_SOCKET: 5 });
  });

  it('stops at maxRequests', async () => {
    const pod = await startPod();
    const r = await runLoad({ url: `http://${pod.address}/recognize`, concurrency: 8, durationMs: 5000, maxRequests: 50 });
    expect(r.total).toBe(50);
    expect(r.durationMs).toBeLessThan(5000);
  });

  it('stops when the stop signal fires', async () => {
    const pod = await startPod();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 150);
    const r = await runLoad({ url: `http://${pod.address}/recognize`, concurrency: 4, durationMs: 10_000, stop: stop.signal });
    expect(r.durationMs).toBeLessThan(1000);
    expect(r.ok).toBe(r.total);
  });

  it('keeps its schedule in an open loop while the answers are slow', async () => {
    const pod = await startPod(300);
    const r = await runLoad({ url: `http://${pod.address}/recognize`, ratePerSecond: 100, durationMs: 500, bodyBytes: 10 });
    // A closed loop of one would manage 2 in this time; the open loop sends on schedule.
    expect(r.total).toBeGreaterThanOrEqual(45);
    expect(r.total).toBeLessThanOrEqual(51);
    expect(r.ok).toBe(r.total);
    expect(r.dropped).toBe(0);
    expect(r.latencyMs.p50).toBeGreaterThanOrEqual(290);
  });

  it('times out requests that get no answer', async () => {
    const pod = await startPod();
    const r = await runLoad({ url: `http://${pod.address}/slow/2000`, method: 'GET', concurrency: 1, durationMs: 100, timeoutMs: 200 });
    expect(r.byError).toEqual({ UND_ERR_HEADERS_TIMEOUT: 1 });
  });

  it('counts connects to a blackholed pod as UND_ERR_CONNECT_TIMEOUT', async () => {
    const pod = await startPod();
    await pod.terminate('blackhole');
    const r = await runLoad({ url: `http://${pod.address}/recognize`, concurrency: 2, durationMs: 100, maxRequests: 2, connectTimeoutMs: 300 });
    expect(r.byError).toEqual({ UND_ERR_CONNECT_TIMEOUT: 2 });
    expect(r.latencyMs.p50).toBeGreaterThanOrEqual(290);
  });

  it('formats a report as one line with errors by cause', async () => {
    const pod = await startPod();
    const r = await runLoad({ url: `http://${pod.address}/status/502`, method: 'GET', concurrency: 1, durationMs: 1000, maxRequests: 3 });
    const line = formatReport('bad gateway', r);
    expect(line).toMatch(/^bad gateway: total=3 ok=0 errors=3 \(status_5xx=3\) p50=[\d.]+ms p99=[\d.]+ms max=[\d.]+ms/);
    expect(line).not.toContain('\n');
  });

  it('refuses to send load off loopback', async () => {
    await expect(runLoad({ url: 'http://192.0.2.1/', durationMs: 100 })).rejects.toMatchObject({ code: 'LAB_INVALID_OPTION' });
  });
});
