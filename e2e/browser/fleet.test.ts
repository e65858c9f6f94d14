import { LabRedis } from '@podgate/lab';
import type { Browser } from 'playwright-core';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { screenshot } from './harness/artifacts.js';
import { launchChromium } from './harness/chromium.js';
import { DashboardPage, eventually } from './harness/dashboard-page.js';
import { dnsNameOf, OPERATOR_TOKEN, startLabPodgate, type LabInstance, type LabPodgate } from './harness/lab-podgate.js';
import { DashboardTabs } from './harness/tabs.js';

/*
 * Two podgate instances in one fleet through a real redis-server on loopback (Debian's package),
 * the dashboard of instance A in Chromium: the Instances page, who drained a pod through B, and the
 * degraded banner while Redis is down.
 */

const SERVICE = 'ocr';
const PORT = 18464;
let redis: LabRedis;
let lab: LabPodgate;
/** Instance B: same config, same pods, same fleet. */
let other: LabInstance;
let browser: Browser;
const tabs = new DashboardTabs(
  () => browser,
  () => lab.adminUrl,
);
const otherTabs = new DashboardTabs(
  () => browser,
  () => other.adminUrl,
);

const idOf = (instance: LabInstance): string => instance.podgate.control.fleet().self;
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Both instances see the fleet ok, with both of them in it. */
async function fleetSettled(ms = 15_000): Promise<void> {
  await eventually(
    () => {
      for (const instance of [lab, other]) {
        const fleet = instance.podgate.control.fleet();
        expect(fleet.state, `${fleet.self}'s fleet state (${fleet.error ?? 'no error'})`).toBe('ok');
        expect(fleet.instances.map((i) => i.id).sort(), `instances ${fleet.self} sees`).toEqual([idOf(lab), idOf(other)].sort());
      }
    },
    ms,
    50,
  );
}

/** Both instances list every pod of the service as active. */
async function allActive(ms = 5000): Promise<void> {
  await eventually(
    () => {
      for (const instance of [lab, other]) {
        const peers = instance.podgate.control.getService(SERVICE)?.peers ?? [];
        expect(peers.map((p) => `${p.address} ${p.state}`).sort()).toEqual(
          lab
            .cluster(SERVICE)
            .pods.map((p) => `${p.address} active`)
            .sort(),
        );
      }
    },
    ms,
    25,
  );
}

beforeAll(async () => {
  redis = await LabRedis.start();
  lab = await startLabPodgate({
    clusters: [{ name: SERVICE, subnet: 226, port: PORT, replicas: 3 }],
    services: { [SERVICE]: { dnsName: dnsNameOf(SERVICE), port: PORT } },
    fleet: { redis: redis.url, name: 'browser' },
  });
  other = await lab.startInstance();
  await fleetSettled();
  await allActive();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await lab?.close();
  await redis?.close();
});

beforeEach(async () => {
  // Every test starts from a running Redis, a settled fleet and three active pods.
  await redis.restart();
  await fleetSettled();
  for (const pod of lab.cluster(SERVICE).pods) {
    const reply = await lab.api('POST', `/services/${SERVICE}/peers/${encodeURIComponent(pod.address)}/restore`, OPERATOR_TOKEN);
    expect([200, 409], JSON.stringify(reply.body)).toContain(reply.status);
  }
  await allActive();
}, 30_000);

afterEach(async (ctx) => {
  await tabs.finish(ctx);
  await otherTabs.finish(ctx);
});

async function signedInAtA(): Promise<DashboardPage> {
  const dash = await tabs.signedIn(OPERATOR_TOKEN);
  await dash.waitForText(dash.liveStatus, 'Live');
  return dash;
}

describe('the fleet on the dashboard', () => {
  it('lists both instances on the Instances page, this one marked, with a link to the other one', async () => {
    const dash = await signedInAtA();
    await dash.nav('Instances').click();
    const table = dash.page.getByRole('table', { name: 'Instances', exact: true });
    await table.waitFor();
    await dash.waitForText(dash.page.getByTestId('fleet-state'), 'ok');

    const mine = dash.page.getByTestId(`instance-row-${idOf(lab)}`);
    const theirs = dash.page.getByTestId(`instance-row-${idOf(other)}`);
    await mine.waitFor();
    await theirs.waitFor();
    expect(await table.getByRole('row').count(), 'header and two instances').toBe(3);
    expect(await dash.textOf(mine.getByTestId('this-instance'))).toBe('this one');
    expect(await theirs.getByTestId('this-instance').count()).toBe(0);
    const link = theirs.getByRole('link');
    expect(await link.getAttribute('href')).toBe(`${other.adminUrl}/`);
    expect(await dash.textOf(link)).toBe(other.podgate.adminAddress);
    expect(await dash.textOf(theirs.getByRole('cell').first())).toBe(`127.0.0.1:${other.podgate.port}`);
    await screenshot(dash.page, 'fleet-instances.png');
  }, 60_000);

  it('shows a pod drained through the other instance as drained by its actor via that instance', async () => {
    const dash = await signedInAtA();
    await dash.openService(SERVICE);
    const [pod] = lab.cluster(SERVICE).pods;
    if (pod === undefined) throw new Error('no pod');
    await dash.waitForText(dash.podState(pod.address), 'active');

    const reply = await other.api('POST', `/services/${SERVICE}/peers/${encodeURIComponent(pod.address)}/drain`, OPERATOR_TOKEN);
    expect([200, 409], JSON.stringify(reply.body)).toContain(reply.status);
    await dash.waitForText(dash.podState(pod.address), /^drain(ing|ed)$/, 5000);
    const heldBy = dash.podRow(pod.address).getByTestId('held-by');
    await dash.waitForText(heldBy, new RegExp(`^drained by olivia via ${escape(idOf(other))}, (just now|\\d+ s ago)$`), 5000);

    // Still one table wide at 1280 px: the line wraps under the state instead of widening the table.
    const overflow = await dash.podsTable.evaluate((t) => t.scrollWidth - (t.parentElement?.clientWidth ?? 0));
    expect(overflow, 'pods table wider than its box at 1280 px').toBeLessThanOrEqual(0);
    await screenshot(dash.page, 'fleet-held-by.png');

    await dash.nav('Ejected peers').click();
    await dash.waitForText(dash.ejectedRow(SERVICE, pod.address).getByTestId('held-by'), new RegExp(`^drained by olivia via ${escape(idOf(other))}, `), 3000);

    // On B's own dashboard the drain went through this instance: no "via".
    const atB = await otherTabs.signedIn(OPERATOR_TOKEN);
    await atB.openService(SERVICE);
    await atB.waitForText(atB.podRow(pod.address).getByTestId('held-by'), /^drained by olivia, /, 5000);
  }, 60_000);

  it('shows the fleet degraded on every page while Redis is down, refuses a drain with the server message, and clears when Redis is back', async () => {
    const dash = await signedInAtA();
    const banner = dash.page.getByTestId('fleet-degraded');
    expect(await banner.count(), 'banner while the fleet is ok').toBe(0);

    await redis.kill9();
    await banner.waitFor({ timeout: 5000 });
    expect(await dash.textOf(banner)).toMatch(/^⚠\s*Fleet browser degraded since .+: .+\. .*refused until the fleet's Redis is back\./);

    // Another page: still there. A drain is refused by the server, its message shown, the row put back.
    await dash.openService(SERVICE);
    await banner.waitFor({ timeout: 2000 });
    const [pod] = lab.cluster(SERVICE).pods;
    if (pod === undefined) throw new Error('no pod');
    await dash.waitForText(dash.podState(pod.address), 'active');
    const answered = dash.page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/drain'), { timeout: 5000 });
    await dash.podButton(pod.address, 'Drain').click();
    await dash.dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
    const response = await answered;
    expect(response.status()).toBe(503);
    expect(((await response.json()) as { error: string }).error).toBe('PODGATE_FLEET_UNAVAILABLE');
    const alert = dash.page.getByRole('alert').filter({ hasText: 'Drain of' });
    await dash.waitForText(alert, new RegExp(`^Drain of ${escape(pod.address)} failed: the fleet's Redis .+: nothing was changed\\s*Dismiss$`), 3000);
    await dash.waitForText(dash.podState(pod.address), 'active', 2000);
    await screenshot(dash.page, 'fleet-degraded.png');

    await dash.nav('Instances').click();
    await dash.waitForText(dash.page.getByTestId('fleet-state'), 'degraded');
    expect(await dash.textOf(dash.page.getByTestId('fleet-state-error'))).not.toBe('');

    await redis.restart();
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
    await dash.waitForText(dash.page.getByTestId('fleet-state'), 'ok', 5000);
    expect(
      lab.podgate.control.getService(SERVICE)?.peers.every((p) => p.state === 'active'),
      'the refused drain changed nothing',
    ).toBe(true);
  }, 60_000);

  // Last: the pod it kills stays dead (and in DNS) for the rest of the file.
  it("shows a pod that the other instance's traffic ejected as ejected on that instance's evidence", async () => {
    const dash = await signedInAtA();
    await dash.openService(SERVICE);
    const pod = lab.cluster(SERVICE).pods[2];
    if (pod === undefined) throw new Error('no pod');
    await dash.waitForText(dash.podState(pod.address), 'active');

    // Connection refused ejects at once; only B's traffic finds it, A sends nothing.
    await pod.terminate('refuse');
    const stateAtB = (): string | undefined => other.podgate.control.getService(SERVICE)?.peers.find((p) => p.address === pod.address)?.state;
    for (let i = 0; i < 20 && stateAtB() !== 'ejected'; i++) {
      const res = await request(`${other.proxyUrl}/recognize`, { method: 'POST', body: 'img' });
      await res.body.dump();
    }
    expect(stateAtB(), "the pod at B after B's failed tries").toBe('ejected');

    await dash.waitForText(dash.podState(pod.address), 'ejected', 5000);
    await dash.waitForText(dash.podRow(pod.address).getByTestId('ejected-by'), `ejected on ${idOf(other)}'s evidence`, 5000);
    expect(await dash.podRow(pod.address).getByTestId('held-by').count(), 'nobody held it by hand').toBe(0);
    await dash.nav('Ejected peers').click();
    await dash.waitForText(dash.ejectedRow(SERVICE, pod.address).getByTestId('ejected-by'), `ejected on ${idOf(other)}'s evidence`, 3000);
    await screenshot(dash.page, 'fleet-ejected-by.png');
  }, 60_000);
});
