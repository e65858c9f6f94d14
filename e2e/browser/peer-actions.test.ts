import type { LabPod } from '@podgate/lab';
import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { DashboardPage, eventually } from './harness/dashboard-page.js';
import { dashboardSuite } from './harness/dashboard-suite.js';
import { dnsNameOf, OPERATOR_TOKEN, VIEWER_TOKEN } from './harness/lab-podgate.js';

const SERVICE = 'ocr';
const suite = dashboardSuite(
  {
    clusters: [{ name: SERVICE, subnet: 224, port: 18462, replicas: 3 }],
    services: { [SERVICE]: { dnsName: dnsNameOf(SERVICE), port: 18462 } },
  },
  (lab) => lab.waitForPeers(SERVICE, 3),
);

beforeEach(async () => {
  // Every test starts from three active pods, whatever the one before left.
  for (const pod of suite.lab.cluster(SERVICE).pods) await suite.lab.api('POST', `/services/${SERVICE}/peers/${pod.address}/restore`, OPERATOR_TOKEN);
  await suite.lab.waitForPeers(SERVICE, 3);
});

async function serviceAs(token: string): Promise<DashboardPage> {
  const dash = await suite.tabs.signedIn(token);
  await dash.openService(SERVICE);
  for (const pod of suite.lab.cluster(SERVICE).pods) await dash.waitForText(dash.podState(pod.address), 'active');
  return dash;
}

/**
 * Clicks the action's button in the pod's row, confirms when asked (drain and eject must ask; restore
 * may), and resolves with the status of the API call it made. The badge may change before the answer
 * (an optimistic update), so the lab is asked only after podgate acknowledged.
 */
async function act(dash: DashboardPage, address: string, action: 'Drain' | 'Eject' | 'Restore'): Promise<number> {
  const path = `/peers/${encodeURIComponent(address)}/${action.toLowerCase()}`;
  const answered = dash.page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(path), { timeout: 5000 });
  await dash.podButton(address, action).click();
  if (action !== 'Restore') await dash.dialog.waitFor({ timeout: 2000 });
  if (await dash.dialog.isVisible()) {
    await dash.dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
    await dash.dialog.waitFor({ state: 'hidden', timeout: 2000 });
  }
  return (await answered).status();
}

/**
 * Holds one request open on `pod` through podgate (GET /slow/<ms>), so a drain stays `draining` until
 * it ends. Sends a slow request at a time until one lands there (podgate picks the peer), then waits
 * until the control plane counts it: counters reach it twice a second (docs/admin-api.md), and a drain
 * decided before that goes straight to `drained`.
 */
async function holdRequestOn(pod: LabPod, ms: number): Promise<Promise<unknown>[]> {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < 10 && pod.inFlight === 0; i++) {
    pending.push(request(`${suite.lab.proxyUrl}/slow/${ms}`).then((res) => res.body.dump()));
    await eventually(() => expect(suite.lab.cluster(SERVICE).pods.reduce((n, p) => n + p.inFlight, 0)).toBeGreaterThanOrEqual(pending.length), 2000, 10);
  }
  expect(pod.inFlight, `a slow request reached ${pod.address}`).toBeGreaterThan(0);
  const counted = (): number => suite.lab.podgate.control.getService(SERVICE)?.peers.find((p) => p.address === pod.address)?.inFlight ?? 0;
  await eventually(() => expect(counted(), 'in-flight requests the control plane counts').toBeGreaterThan(0), 2000, 20);
  return pending;
}

describe('peer actions from the service page', () => {
  it('drains a pod on click: it gets no new requests, shows draining then drained, and comes back on restore', async () => {
    const dash = await serviceAs(OPERATOR_TOKEN);
    const [pod] = suite.lab.cluster(SERVICE).pods;
    if (pod === undefined) throw new Error('no pod');
    const held = await holdRequestOn(pod, 3000);

    expect(await act(dash, pod.address, 'Drain')).toBe(200);
    await dash.waitForText(dash.podState(pod.address), 'draining', 2000);
    await Promise.all(held);
    await dash.waitForText(dash.podState(pod.address), 'drained', 3000);

    const before = pod.served;
    expect(await suite.lab.send(20)).toEqual(Array(20).fill(200));
    expect(pod.served - before, 'requests a drained pod got').toBe(0);

    expect(await act(dash, pod.address, 'Restore')).toBe(200);
    await dash.waitForText(dash.podState(pod.address), 'active', 2000);
    const restored = pod.served;
    expect(await suite.lab.send(20)).toEqual(Array(20).fill(200));
    expect(pod.served - restored, 'requests a restored pod got').toBeGreaterThan(0);
  }, 60_000);

  it('ejects a pod on click and lists it under Ejected peers with its reason until restored', async () => {
    const dash = await serviceAs(OPERATOR_TOKEN);
    const pod = suite.lab.cluster(SERVICE).pods[1];
    if (pod === undefined) throw new Error('no pod');

    expect(await act(dash, pod.address, 'Eject')).toBe(200);
    await dash.waitForText(dash.podState(pod.address), 'ejected', 2000);
    const before = pod.served;
    expect(await suite.lab.send(20)).toEqual(Array(20).fill(200));
    expect(pod.served - before, 'requests an ejected pod got').toBe(0);

    await dash.nav('Ejected peers').click();
    await dash.page.getByRole('table', { name: 'Ejected peers', exact: true }).waitFor();
    const row = dash.ejectedRow(SERVICE, pod.address);
    await dash.waitForText(row, /operator_eject/, 2000);

    await dash.openService(SERVICE);
    expect(await act(dash, pod.address, 'Restore')).toBe(200);
    await dash.waitForText(dash.podState(pod.address), 'active', 2000);
    await dash.nav('Ejected peers').click();
    await row.waitFor({ state: 'detached', timeout: 2000 });
  }, 60_000);

  it('opens the drain dialog from the keyboard and closes it with Escape', async () => {
    const dash = await serviceAs(OPERATOR_TOKEN);
    const page = dash.page;
    let onDrain = false;
    for (let i = 0; i < 200 && !onDrain; i++) {
      await page.keyboard.press('Tab');
      onDrain = await page
        .getByRole('button', { name: 'Drain', exact: true })
        .evaluateAll((buttons) => buttons.some((b) => b === b.ownerDocument.activeElement));
    }
    expect(onDrain, 'Tab reaches a Drain button').toBe(true);

    await page.keyboard.press('Enter');
    await dash.dialog.waitFor({ timeout: 2000 });
    await page.keyboard.press('Escape');
    await dash.dialog.waitFor({ state: 'hidden', timeout: 2000 });
    expect(
      suite.lab.podgate.control.getService(SERVICE)?.peers.every((p) => p.state === 'active'),
      'Escape drained nothing',
    ).toBe(true);
  }, 30_000);

  it('shows a viewer no action buttons, and the API refuses its mutations', async () => {
    const dash = await serviceAs(VIEWER_TOKEN);
    const page = dash.page;
    await dash.podsTable.waitFor();
    for (const name of ['Drain', 'Eject', 'Restore']) expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    expect(await dash.nav('Add service').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Add service', exact: true }).count()).toBe(0);

    const address = suite.lab.cluster(SERVICE).pods[0]?.address ?? '';
    const drain = await suite.lab.api('POST', `/services/${SERVICE}/peers/${encodeURIComponent(address)}/drain`, VIEWER_TOKEN);
    expect(drain.status).toBe(403);
    const add = await suite.lab.api('POST', '/services', VIEWER_TOKEN, {
      name: 'sneaky',
      dnsName: dnsNameOf(SERVICE),
      port: 18462,
      routes: [{ pathPrefix: '/sneaky' }],
    });
    expect(add.status).toBe(403);
    expect(suite.lab.podgate.control.getService(SERVICE)?.peers.every((p) => p.state === 'active')).toBe(true);
  }, 30_000);
});
