import { describe, expect, it } from 'vitest';
import { screenshot } from './harness/artifacts.js';
import { dashboardSuite } from './harness/dashboard-suite.js';
import { DashboardPage } from './harness/dashboard-page.js';
import { dnsNameOf, OPERATOR_TOKEN } from './harness/lab-podgate.js';

// The scale: 50 services and 500 pods. One lab Deployment of 10 pods behind 50 services
// (distinct routes, same headless Service) gives podgate 500 peers to track and the page 500 rows' worth of state.
const SERVICES = 50;
const PODS = 10;
const names = Array.from({ length: SERVICES }, (_, i) => `s${i + 1}`);
const suite = dashboardSuite({ clusters: [{ name: 'fleet', subnet: 225, port: 18463, replicas: PODS }] }, async (lab) => {
  for (const name of names) {
    const reply = await lab.api('POST', '/services', OPERATOR_TOKEN, { name, dnsName: dnsNameOf('fleet'), port: 18463, routes: [{ pathPrefix: `/${name}` }] });
    if (reply.status !== 201) throw new Error(`adding ${name}: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
  for (const name of names) await lab.waitForPeers(name, PODS);
});

async function overviewAt(viewport: { width: number; height: number }): Promise<DashboardPage> {
  const dash = await suite.tabs.signedIn(OPERATOR_TOKEN, viewport);
  await dash.nav('Overview').click();
  await dash.servicesTable.waitFor();
  return dash;
}

describe('50 services and 500 pods', () => {
  it('renders every service on the overview within 3 s and opens one in under 1 s', async () => {
    const dash = await suite.tabs.page();
    const started = Date.now();
    await dash.signIn(OPERATOR_TOKEN);
    await dash.nav('Overview').click();
    await dash.serviceRow(names[SERVICES - 1] ?? '').waitFor({ timeout: 3000 });
    expect(await dash.page.getByTestId(/^service-row-/).count()).toBe(SERVICES);
    expect(Date.now() - started, 'ms from opening the URL to 50 rows').toBeLessThan(3000);

    const clicked = Date.now();
    await dash.serviceRow('s37').getByRole('link', { name: 's37', exact: true }).click();
    await dash.page.getByRole('heading', { level: 1, name: 's37', exact: true }).waitFor({ timeout: 1000 });
    await dash.page
      .getByTestId(/^pod-row-/)
      .nth(PODS - 1)
      .waitFor({ timeout: Math.max(1, 1000 - (Date.now() - clicked)) });
    expect(Date.now() - clicked, 'ms from the click to the pods table').toBeLessThan(1000);
    expect(await dash.page.getByTestId(/^pod-row-/).count()).toBe(PODS);
  }, 30_000);

  it('lays the overview out at 1280×800', async () => {
    const dash = await overviewAt({ width: 1280, height: 800 });
    await dash.serviceRow(names[SERVICES - 1] ?? '').waitFor();
    await screenshot(dash.page, 'overview-1280.png');
    // Readable: the table fits the width, no sideways scrolling of the page.
    expect(await dash.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
  }, 30_000);

  it('lays the overview out at 1920×1080', async () => {
    const dash = await overviewAt({ width: 1920, height: 1080 });
    await dash.serviceRow(names[SERVICES - 1] ?? '').waitFor();
    await screenshot(dash.page, 'overview-1920.png');
    expect(await dash.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1920);
  }, 30_000);
});
