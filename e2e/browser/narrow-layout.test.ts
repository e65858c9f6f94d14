import type { Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot } from './harness/artifacts.js';
import { DashboardPage, eventually } from './harness/dashboard-page.js';
import { dashboardSuite } from './harness/dashboard-suite.js';
import { dnsNameOf, OPERATOR_TOKEN } from './harness/lab-podgate.js';

/*
 * The pages at 800 px (half a laptop's screen), and what issue 16 found on them: the pods table cut
 * off P99, Returns and Actions; the events wrapped time and service while Detail stood half empty;
 * two routes read as one; an operator-ejected pod had no return on one page and "when restored" on
 * another, and 0 ejections; a removed pod read `peer_removed … → ejected`.
 */

const SERVICE = 'recognizer';
const NARROW = { width: 800, height: 900 };
const suite = dashboardSuite(
  {
    clusters: [{ name: SERVICE, subnet: 228, port: 18466, replicas: 3 }],
    services: {
      [SERVICE]: {
        dnsName: dnsNameOf(SERVICE),
        port: 18466,
        routes: [{ host: 'api.example.com', pathPrefix: '/recognize' }, { pathPrefix: '/' }],
      },
    },
  },
  async (lab) => {
    await lab.waitForPeers(SERVICE, 3);
    await lab.send(30, '/');
  },
);

/** The element's content is wider than its box: a scroll bar, cut-off columns. */
async function overflows(locator: Locator): Promise<{ scrollWidth: number; clientWidth: number }> {
  return locator.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
}

/** How many lines the element's content takes: the distinct tops of its text's line boxes. */
async function lines(locator: Locator): Promise<number> {
  return locator.evaluate((el) => {
    const range = el.ownerDocument.createRange();
    range.selectNodeContents(el);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  });
}

async function narrowService(): Promise<DashboardPage> {
  const dash = await suite.tabs.signedIn(OPERATOR_TOKEN, NARROW);
  await dash.openService(SERVICE);
  await dash.podsTable.waitFor();
  return dash;
}

describe('the service page at 800 px', () => {
  it('fits the pods table, Actions included, without sideways scrolling', async () => {
    const dash = await narrowService();
    const pod = suite.lab.cluster(SERVICE).pods[0];
    if (pod === undefined) throw new Error('no pod');
    await dash.podButton(pod.address, 'Drain').waitFor();
    const wrap = dash.page.locator('.table-wrap').filter({ has: dash.podsTable });
    const { scrollWidth, clientWidth } = await overflows(wrap);
    expect(scrollWidth, 'pods table width against its box').toBeLessThanOrEqual(clientWidth);
    expect(await dash.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(NARROW.width);
    for (const header of ['p99', 'Returns', 'Actions']) {
      const box = await dash.podsTable.getByRole('columnheader', { name: header, exact: true }).boundingBox();
      expect(box, header).not.toBeNull();
      expect((box?.x ?? 0) + (box?.width ?? 0), `${header}'s right edge`).toBeLessThanOrEqual(NARROW.width);
    }
    await screenshot(dash.page, 'service-800.png', { fullPage: true });
  }, 30_000);

  it('lists each route on its own: the host route, and / for any host', async () => {
    const dash = await narrowService();
    const routes = dash.page.getByRole('list', { name: 'Routes', exact: true }).getByRole('listitem');
    expect(await routes.allTextContents()).toEqual(['api.example.com/recognize', '/ any host']);
  }, 30_000);

  it('marks no nav link current on a service page', async () => {
    const dash = await narrowService();
    expect(await dash.page.getByRole('navigation').locator('[aria-current="page"]').count()).toBe(0);
    await dash.nav('Overview').click();
    await dash.servicesTable.waitFor();
    expect(await dash.nav('Overview').getAttribute('aria-current')).toBe('page');
  }, 30_000);

  it('counts an ejection by hand and says "when restored" for its return, on the service page and under Ejected peers alike', async () => {
    const dash = await narrowService();
    const pod = suite.lab.cluster(SERVICE).pods[1];
    if (pod === undefined) throw new Error('no pod');
    await dash.podButton(pod.address, 'Eject').click();
    await dash.dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
    await dash.waitForText(dash.podState(pod.address), 'ejected');
    await dash.waitForText(dash.podRow(pod.address).getByTestId('pod-ejections'), '1');
    await dash.waitForText(dash.podRow(pod.address).getByTestId('pod-returns'), 'when restored');

    await dash.nav('Ejected peers').click();
    await dash.waitForText(dash.ejectedRow(SERVICE, pod.address).getByTestId('peer-returns'), 'when restored');
    const wrap = dash.page.locator('.table-wrap').filter({ has: dash.page.getByRole('table', { name: 'Ejected peers', exact: true }) });
    const { scrollWidth, clientWidth } = await overflows(wrap);
    expect(scrollWidth, 'ejected peers table width against its box').toBeLessThanOrEqual(clientWidth);
    await screenshot(dash.page, 'ejected-800.png');
  }, 30_000);
});

describe('the events page at 800 px', () => {
  it('keeps time, service and address on one line, says a removed pod "was" in its state, and gives the rest to Detail', async () => {
    // An ejected pod that then leaves DNS: its peer_removed event carries the state it had.
    const cluster = suite.lab.cluster(SERVICE);
    const last = cluster.pods.at(-1);
    if (last === undefined) throw new Error('no pod');
    expect((await suite.lab.api('POST', `/services/${SERVICE}/peers/${encodeURIComponent(last.address)}/eject`, OPERATOR_TOKEN)).status).toBe(200);
    await cluster.scale(cluster.replicas - 1);
    await eventually(() => {
      const gone = suite.lab.podgate.control.events(0, 1000).events.some((e) => e.type === 'peer_removed' && e.address === last.address);
      if (!gone) throw new Error(`no peer_removed for ${last.address} yet`);
    }, 10_000);

    const dash = await suite.tabs.signedIn(OPERATOR_TOKEN, NARROW);
    await dash.nav('Events').click();
    const table = dash.page.getByRole('table', { name: 'Events', exact: true });
    const removed = table.getByRole('row').filter({ hasText: 'peer_removed' }).filter({ hasText: last.address });
    await removed.first().waitFor();
    const detail = await dash.textOf(removed.first().getByRole('cell').last());
    expect(detail).toMatch(/^was ejected · removed_from_dns/);
    expect(detail).not.toContain('→');

    const rows = table.getByRole('row').filter({ has: dash.page.locator('time') });
    const count = Math.min(await rows.count(), 10);
    expect(count).toBeGreaterThan(0);
    for (let i = 0; i < count; i++) {
      const cells = rows.nth(i).getByRole('cell');
      const parts: [string, Locator][] = [
        ['time', cells.nth(0)],
        ['type', cells.nth(1).locator('.event-type')],
        ['service', cells.nth(2).getByRole('link')],
        ['pod', cells.nth(2).locator('code')],
        ['actor', cells.nth(3)],
      ];
      for (const [what, locator] of parts) {
        // Not every event is about a pod (dns_recovered, panic_entered) or a service (config_reloaded).
        if ((what === 'pod' || what === 'service') && (await locator.count()) === 0) continue;
        expect(await lines(locator), `${what} of row ${i} on one line`).toBe(1);
      }
    }
    // Detail gets the rest of the width: the table fits its box.
    const wrap = dash.page.locator('.table-wrap').filter({ has: table });
    const { scrollWidth, clientWidth } = await overflows(wrap);
    expect(scrollWidth, 'events table width against its box').toBeLessThanOrEqual(clientWidth);
    await screenshot(dash.page, 'events-800.png');
  }, 30_000);
});
