import { runLoad, type RolloutStep } from '@podgate/lab';
import type { EventView } from '@podgate/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { screenshot } from './harness/artifacts.js';
import { dashboardSuite } from './harness/dashboard-suite.js';
import { eventually, type PodRowView } from './harness/dashboard-page.js';
import { dnsNameOf, OPERATOR_TOKEN } from './harness/lab-podgate.js';

const SERVICE = 'image-lobby';
const events: EventView[] = [];
const suite = dashboardSuite(
  {
    // 20 ms a request keeps 4 clients near 200 req/s: traffic on the page without starving the browser.
    clusters: [{ name: SERVICE, subnet: 223, port: 18461, replicas: 4, podDelayMs: 20 }],
    services: {
      [SERVICE]: {
        dnsName: dnsNameOf(SERVICE),
        port: 18461,
        retry: { tries: 3, on: ['error', 'timeout', 'http_502', 'non_idempotent'] },
        // The black-holed pod must be ejected in a second, not after the 10 s default.
        timeouts: { connect: '1s', responseHeader: '5s' },
      },
    },
  },
  async (lab) => {
    lab.podgate.control.subscribe((c) => {
      if (c.kind === 'event') events.push(c.event);
    });
    await lab.waitForPeers(SERVICE, 4);
  },
);

describe('a rolling update, watched in the browser', () => {
  it('shows the old pods leaving, the new ones arriving and an ejection with its reason', async () => {
    const overview = await suite.tabs.signedIn(OPERATOR_TOKEN);
    await overview.serviceRow(SERVICE).waitFor();
    const detail = await suite.tabs.signedIn(OPERATOR_TOKEN);
    await detail.openService(SERVICE);
    const cluster = suite.lab.cluster(SERVICE);
    const old = cluster.pods.map((p) => p.address);
    for (const address of old) await detail.waitForText(detail.podState(address), 'active');

    const stop = new AbortController();
    const load = runLoad({ url: `${suite.lab.proxyUrl}/recognize`, concurrency: 4, bodyBytes: 1024, durationMs: 30_000, timeoutMs: 10_000, stop: stop.signal });
    // Two seconds of traffic first, so the rates and charts in the screenshots have points.
    await sleep(2000);
    const steps: RolloutStep[] = [];
    let rolling = true;
    const rollout = cluster
      .rollingUpdate({ mode: 'mixed', dnsLagMs: 500, stepPauseMs: 500, graceMs: 2000, onStep: (s) => steps.push(s) })
      .finally(() => (rolling = false));

    // What the pods table showed, sampled every 100 ms while the rollout runs.
    const seen = new Map<string, Set<string>>();
    const gone = new Set<string>();
    let shotDuringRollout = false;
    try {
      const record = (rows: PodRowView[]): void => {
        for (const row of rows) seen.set(row.address, (seen.get(row.address) ?? new Set()).add(row.state));
        for (const address of old) if (seen.has(address) && !rows.some((r) => r.address === address)) gone.add(address);
      };
      while (rolling) {
        record(await detail.podRows());
        const arrived = [...seen.keys()].some((a) => !old.includes(a));
        const leaving = old.some((a) => gone.has(a) || [...(seen.get(a) ?? [])].some((state) => state !== 'active'));
        // The moment worth a picture: new pods in, old ones on their way out.
        if (arrived && leaving && !shotDuringRollout) {
          await screenshot(overview.page, 'overview-rollout.png');
          await screenshot(detail.page, 'service-rollout.png');
          shotDuringRollout = rolling;
        }
        await sleep(100);
      }
      await rollout;
      const fresh = cluster.pods.map((p) => p.address);
      // After the rollout: only the new pods, all active (the last old pod leaves within a DNS refresh).
      await eventually(
        async () => {
          const rows = await detail.podRows();
          record(rows);
          expect(rows.map((r) => r.address).sort()).toEqual([...fresh].sort());
          expect(rows.every((r) => r.state === 'active')).toBe(true);
        },
        10_000,
        100,
      );

      expect(shotDuringRollout, 'screenshots taken while the rollout ran').toBe(true);
      for (const address of old) {
        const states = [...(seen.get(address) ?? [])].join(', ');
        expect(
          gone.has(address) || seen.get(address)?.has('terminating'),
          `old pod ${address} seen leaving (states seen: ${states}; steps: ${JSON.stringify(steps)})`,
        ).toBe(true);
      }
      for (const address of fresh) expect(seen.get(address)?.has('active'), `new pod ${address} seen arriving`).toBe(true);

      // The ejection: podgate ejected at least one dying pod (refused or black-holed connects); the
      // timeline names it with its reason.
      const ejections = events.filter((e) => e.service === SERVICE && e.type === 'peer_ejected');
      expect(ejections.length, 'podgate ejected a dying pod').toBeGreaterThan(0);
      const reasons = ejections.map((e) => e.reason ?? '');
      await eventually(
        async () => {
          const items = (await detail.timeline.getByRole('listitem').filter({ hasText: 'peer_ejected' }).allTextContents()).join('\n');
          expect(
            reasons.some((reason) => reason !== '' && items.includes(reason)),
            `timeline ejections:\n${items}\nreasons: ${reasons.join(', ')}`,
          ).toBe(true);
        },
        5000,
        100,
      );
      const timeline = (await detail.timeline.getByRole('listitem').allTextContents()).join('\n');
      expect(timeline).toContain('peer_added');
      expect(timeline).toContain('peer_removed');
    } finally {
      stop.abort();
      await rollout.catch(() => undefined);
      const report = await load;
      // Light load through a rollout: podgate retries what the dying pods drop.
      expect(report.ok, JSON.stringify(report.byStatus)).toBeGreaterThan(0);
    }
  }, 60_000);
});
