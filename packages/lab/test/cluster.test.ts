import { promises as dns } from 'node:dns';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LabCluster, type RolloutStep } from '../src/cluster.js';
import { LabDnsServer } from '../src/dns-server.js';

const NAME = 'image-lobby.lab.svc.cluster.local';
let server: LabDnsServer;
let resolver: dns.Resolver;
const clusters: LabCluster[] = [];

beforeAll(async () => {
  server = await LabDnsServer.start();
  resolver = new dns.Resolver({ timeout: 1000, tries: 2 });
  resolver.setServers([server.nameserver]);
});

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await server.close();
});

async function startCluster(replicas = 3, name = NAME): Promise<LabCluster> {
  // Each cluster takes the next subnet, so its pods never meet the previous test's.
  const cluster = await LabCluster.start({ dns: server, dnsName: name, replicas, ttl: 1 });
  clusters.push(cluster);
  return cluster;
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();
const hostsOf = (cluster: LabCluster, pods = cluster.pods): string[] => sorted(pods.map((p) => p.host));

async function get(address: string, path: string): Promise<{ status: number; pod: string }> {
  const dispatcher = new Agent();
  try {
    const res = await request(`http://${address}${path}`, { dispatcher });
    const json = (await res.body.json()) as { pod: string };
    return { status: res.statusCode, pod: json.pod };
  } finally {
    await dispatcher.destroy();
  }
}

describe('LabCluster', () => {
  it('publishes its pods in the lab DNS server', async () => {
    const cluster = await startCluster(3);
    expect(cluster.pods).toHaveLength(3);
    expect(sorted(await resolver.resolve4(NAME))).toEqual(hostsOf(cluster));
    const first = cluster.pods[0];
    expect(first?.host).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(await get(first?.address ?? '', '/healthz')).toEqual({ status: 200, pod: first?.name });
  });

  it('replaces every pod in a rolling update and DNS ends up listing only new ones', async () => {
    const cluster = await startCluster(3);
    const before = hostsOf(cluster);
    const steps = await cluster.rollingUpdate({ mode: 'graceful', readyDelayMs: 20 });
    const after = hostsOf(cluster);
    expect(after).toHaveLength(3);
    expect(after.filter((h) => before.includes(h))).toEqual([]);
    expect(sorted(await resolver.resolve4(NAME))).toEqual(after);
    expect(sorted(cluster.listed)).toEqual(sorted(cluster.pods.map((p) => p.address)));
    // Graceful pods close once drained, so only the new ones are left.
    expect(cluster.allPods).toHaveLength(3);
    const kinds = (kind: RolloutStep['kind']): number => steps.filter((s) => s.kind === kind).length;
    expect([kinds('pod_started'), kinds('pod_listed'), kinds('pod_terminating'), kinds('pod_unlisted'), kinds('pod_closed')]).toEqual([3, 3, 3, 3, 3]);
  });

  it('keeps maxSurge and maxUnavailable during a rollout', async () => {
    const cluster = await startCluster(4);
    for (const limits of [
      { maxSurge: 1, maxUnavailable: 0, most: 5, fewestListed: 4 },
      { maxSurge: 0, maxUnavailable: 2, most: 4, fewestListed: 2 },
    ]) {
      let pods = 4;
      let listed = 4;
      let most = 0;
      let fewestListed = 4;
      await cluster.rollingUpdate({
        mode: 'refuse',
        readyDelayMs: 10,
        maxSurge: limits.maxSurge,
        maxUnavailable: limits.maxUnavailable,
        onStep: (s) => {
          if (s.kind === 'pod_started') pods++;
          if (s.kind === 'pod_terminating') pods--;
          if (s.kind === 'pod_listed') listed++;
          if (s.kind === 'pod_unlisted') listed--;
          most = Math.max(most, pods);
          fewestListed = Math.min(fewestListed, listed);
        },
      });
      expect({ most, fewestListed }).toEqual({ most: limits.most, fewestListed: limits.fewestListed });
    }
  });

  it('cycles termination modes in a mixed rollout and keeps blackholed pods until close', async () => {
    const cluster = await startCluster(3);
    const steps = await cluster.rollingUpdate({ mode: 'mixed', readyDelayMs: 10, dnsLagMs: 100 });
    const modes = steps.filter((s) => s.kind === 'pod_terminating').map((s) => s.mode);
    expect(modes).toEqual(['graceful', 'refuse', 'blackhole']);
    // The dns lag: each pod is unlisted at least 100 ms after its termination began.
    for (const s of steps.filter((x) => x.kind === 'pod_unlisted')) {
      const began = steps.find((x) => x.kind === 'pod_terminating' && x.pod === s.pod);
      expect(s.at - (began?.at ?? 0)).toBeGreaterThanOrEqual(95);
    }
    const blackholed = cluster.allPods.filter((p) => p.state === 'blackhole');
    expect(blackholed).toHaveLength(1);
    expect(cluster.allPods).toHaveLength(4);
    expect(sorted(await resolver.resolve4(NAME))).toEqual(hostsOf(cluster));
  });

  it('keeps each mode listed for its own DNS lag, and closes a blackholed pod after blackholeMs', async () => {
    const cluster = await startCluster(2);
    const steps = await cluster.rollingUpdate({ mode: ['blackhole', 'graceful'], readyDelayMs: 10, dnsLagMs: { blackhole: 300 }, blackholeMs: 400 });
    const lagOf = (mode: string): number => {
      const began = steps.find((x) => x.kind === 'pod_terminating' && x.mode === mode);
      const unlisted = steps.find((x) => x.kind === 'pod_unlisted' && x.pod === began?.pod);
      return (unlisted?.at ?? 0) - (began?.at ?? 0);
    };
    expect(lagOf('blackhole')).toBeGreaterThanOrEqual(295);
    expect(lagOf('graceful')).toBeLessThan(250);
    const blackholed = cluster.allPods.find((p) => p.state === 'blackhole');
    expect(blackholed).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(blackholed?.state).toBe('closed');
    expect(cluster.allPods).toHaveLength(2);
  });

  it('restarts a pod in place: refused and unlisted while down, then listed again on the same address', async () => {
    const cluster = await startCluster(2);
    const pod = cluster.pods[0];
    if (pod === undefined) throw new Error('no pod');
    const restarted = cluster.restartPod(pod, { downMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(cluster.listed).not.toContain(pod.address);
    expect(cluster.pods).toHaveLength(1);
    await expect(get(pod.address, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const back = await restarted;
    expect(back.address).toBe(pod.address);
    expect(back.name).toBe(pod.name);
    expect(cluster.listed).toContain(pod.address);
    expect(await get(pod.address, '/healthz')).toEqual({ status: 200, pod: pod.name });
    expect(cluster.pods).toHaveLength(2);
  });

  it('freezes old pods in a hang rollout and kills each one when its grace period ends', async () => {
    const cluster = await startCluster(2);
    const hungStates: string[] = [];
    const steps = await cluster.rollingUpdate({
      mode: 'hang',
      readyDelayMs: 10,
      graceMs: 300,
      onStep: (s) => {
        if (s.kind !== 'pod_terminating') return;
        const pod = cluster.allPods.find((p) => p.name === s.pod);
        setTimeout(() => hungStates.push(pod?.state ?? 'missing'), 100);
      },
    });
    const terminating = steps.filter((s) => s.kind === 'pod_terminating');
    expect(terminating.map((s) => s.mode)).toEqual(['hang', 'hang']);
    expect(hungStates).toEqual(['hang', 'hang']);
    for (const t of terminating) {
      const closed = steps.find((s) => s.kind === 'pod_closed' && s.pod === t.pod);
      expect((closed?.at ?? 0) - t.at).toBeGreaterThanOrEqual(295);
    }
    expect(cluster.allPods).toHaveLength(2);
    expect(cluster.allPods.every((p) => p.state === 'running')).toBe(true);
  });

  it('takes the termination mode of each step from a list', async () => {
    const cluster = await startCluster(3);
    const steps = await cluster.rollingUpdate({ mode: ['refuse', 'graceful'], readyDelayMs: 5 });
    const modes = steps.filter((s) => s.kind === 'pod_terminating').map((s) => s.mode);
    expect(modes).toEqual(['refuse', 'graceful', 'refuse']);
  });

  it('never reuses an IP across rollouts', async () => {
    const cluster = await startCluster(2);
    const seen = new Set(cluster.pods.map((p) => p.host));
    for (let i = 0; i < 2; i++) {
      await cluster.rollingUpdate({ mode: 'refuse', readyDelayMs: 5 });
      for (const pod of cluster.pods) {
        expect(seen.has(pod.host)).toBe(false);
        seen.add(pod.host);
      }
    }
    expect(seen.size).toBe(6);
  });

  it('scales up and down and publishes the change', async () => {
    const cluster = await startCluster(2);
    await cluster.scale(4);
    expect(sorted(await resolver.resolve4(NAME))).toHaveLength(4);
    await cluster.scale(1);
    expect(cluster.pods).toHaveLength(1);
    expect(cluster.allPods).toHaveLength(1);
    expect(sorted(await resolver.resolve4(NAME))).toEqual(hostsOf(cluster));
  });

  it('refuses a second rollout while one is running', async () => {
    const cluster = await startCluster(2);
    const first = cluster.rollingUpdate({ mode: 'graceful', readyDelayMs: 50 });
    await expect(cluster.rollingUpdate({ mode: 'graceful' })).rejects.toMatchObject({ code: 'LAB_BUSY' });
    await first;
  });

  it('removes its name from DNS when closed', async () => {
    const cluster = await startCluster(1);
    await cluster.close();
    await expect(resolver.resolve4(NAME)).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});
