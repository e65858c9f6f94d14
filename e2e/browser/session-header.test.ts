import type { Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { screenshot } from './harness/artifacts.js';
import { DashboardPage, eventually } from './harness/dashboard-page.js';
import { dashboardSuite } from './harness/dashboard-suite.js';
import { dnsNameOf, OPERATOR_TOKEN, VIEWER_TOKEN } from './harness/lab-podgate.js';

/*
 * Who the page is signed in as, where it keeps the token, and which podgate it talks to (issue 16).
 * The role used to be found by POSTing `{}` to create-service: a 400 in the console on every load.
 */

const SERVICE = 'lobby';
const VERSION = (JSON.parse(readFileSync(new URL('../../apps/podgate/package.json', import.meta.url), 'utf8')) as { version: string }).version;
const suite = dashboardSuite(
  {
    clusters: [{ name: SERVICE, subnet: 227, port: 18465, replicas: 2 }],
    services: { [SERVICE]: { dnsName: dnsNameOf(SERVICE), port: 18465 } },
  },
  (lab) => lab.waitForPeers(SERVICE, 2),
);

/** Every API request the page makes, and every console error and failed response it meets. */
function watch(page: Page): { requests: string[]; problems: string[] } {
  const seen = { requests: [] as string[], problems: [] as string[] };
  page.on('request', (req) => {
    if (req.url().includes('/api/')) seen.requests.push(`${req.method()} ${new URL(req.url()).pathname}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.problems.push(`console: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) seen.problems.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return seen;
}

/** Another tab of the same browser: it shares localStorage with `dash`, not sessionStorage. */
async function secondTab(dash: DashboardPage): Promise<{ dash: DashboardPage; errors: string[] }> {
  const page = await dash.page.context().newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.stack ?? err.message));
  await page.goto(`${suite.lab.adminUrl}/#/services/${SERVICE}`);
  return { dash: new DashboardPage(page, suite.lab.adminUrl), errors };
}

/** Signed in, or on the sign-in form: whichever the page settles on. */
async function landedOn(dash: DashboardPage): Promise<'signed in' | 'sign-in'> {
  const form = dash.page.getByLabel('Token', { exact: true });
  await dash.nav('Overview').or(form).first().waitFor();
  return (await form.count()) > 0 ? 'sign-in' : 'signed in';
}

describe('who the page is signed in as', () => {
  it("learns an operator's name and role from GET /session, with no failed request and nothing in the console", async () => {
    const dash = await suite.tabs.page();
    const seen = watch(dash.page);
    await dash.signIn(OPERATOR_TOKEN);
    await dash.waitForText(dash.page.getByTestId('session-role'), 'olivia · operator');
    await dash.serviceRow(SERVICE).waitFor();
    await dash.waitForText(dash.liveStatus, 'Live');
    expect(seen.requests).toContain('GET /api/v1/session');
    expect(
      seen.requests.filter((r) => r.startsWith('POST')),
      'changes tried on load',
    ).toEqual([]);
    expect(seen.problems).toEqual([]);
    expect(await dash.nav('Add service').count()).toBe(1);
  }, 30_000);

  it("learns a viewer's role the same way and shows it no changes", async () => {
    const dash = await suite.tabs.page();
    const seen = watch(dash.page);
    await dash.signIn(VIEWER_TOKEN);
    await dash.waitForText(dash.page.getByTestId('session-role'), 'victor · viewer');
    await dash.openService(SERVICE);
    await dash.podsTable.waitFor();
    expect(await dash.nav('Add service').count()).toBe(0);
    expect(await dash.page.getByRole('button', { name: 'Drain', exact: true }).count()).toBe(0);
    expect(seen.requests.filter((r) => r.startsWith('POST'))).toEqual([]);
    expect(seen.problems).toEqual([]);
  }, 30_000);
});

describe('which podgate the page talks to', () => {
  it('shows its version, uptime, proxy address and workers under the top bar', async () => {
    const dash = await suite.tabs.signedIn(OPERATOR_TOKEN);
    const page = dash.page;
    await dash.waitForText(page.getByTestId('instance-version'), VERSION);
    await dash.waitForText(page.getByTestId('instance-listen'), `127.0.0.1:${suite.lab.podgate.port}`);
    await dash.waitForText(page.getByTestId('instance-workers'), '1 worker');
    const uptime = page.getByTestId('instance-uptime');
    await dash.waitForText(uptime, /^\d+ s$|^\d+ m( \d+ s)?$/);
    const first = await dash.textOf(uptime);
    // The shared clock ticks once a second.
    await eventually(async () => expect(await dash.textOf(uptime)).not.toBe(first), 3000);
    await screenshot(page, 'header-1280.png');
  }, 30_000);
});

describe('where the token is kept', () => {
  it('keeps it for this tab only by default: another tab of the browser opens on the sign-in', async () => {
    const dash = await suite.tabs.signedIn(OPERATOR_TOKEN);
    expect(await dash.page.getByRole('checkbox', { name: 'Remember on this browser' }).isChecked()).toBe(false);
    const other = await secondTab(dash);
    expect(await landedOn(other.dash)).toBe('sign-in');
    expect(await other.dash.page.getByRole('checkbox', { name: 'Remember on this browser' }).isChecked()).toBe(false);
    expect(other.errors).toEqual([]);
  }, 30_000);

  it('remembers it on this browser when asked at sign-in: another tab and a bookmark open signed in, until sign-out', async () => {
    const dash = await suite.tabs.page();
    await dash.page.goto(`${suite.lab.adminUrl}/`);
    await dash.page.getByLabel('Token', { exact: true }).fill(OPERATOR_TOKEN);
    await dash.page.getByRole('checkbox', { name: 'Remember on this browser' }).check();
    await screenshot(dash.page, 'sign-in-remember.png');
    await dash.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await dash.nav('Overview').waitFor();
    expect(await dash.page.getByRole('checkbox', { name: 'Remember on this browser' }).isChecked()).toBe(true);

    const other = await secondTab(dash);
    expect(await landedOn(other.dash)).toBe('signed in');
    // A bookmark of a service page: straight there, signed in.
    await other.dash.page.getByRole('heading', { level: 1, name: SERVICE, exact: true }).waitFor();

    await dash.page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await dash.page.getByLabel('Token', { exact: true }).waitFor();
    const third = await secondTab(dash);
    expect(await landedOn(third.dash)).toBe('sign-in');
    expect([...other.errors, ...third.errors]).toEqual([]);
  }, 30_000);

  it('remembers a token from the printed link when asked under the top bar, and forgets it when unticked', async () => {
    const dash = await suite.tabs.signedIn(OPERATOR_TOKEN);
    const remember = dash.page.getByRole('checkbox', { name: 'Remember on this browser' });
    await remember.check();
    const other = await secondTab(dash);
    expect(await landedOn(other.dash)).toBe('signed in');

    await remember.uncheck();
    const third = await secondTab(dash);
    expect(await landedOn(third.dash)).toBe('sign-in');
    // This tab stays signed in.
    await dash.nav('Events').click();
    await dash.page.getByRole('table', { name: 'Events', exact: true }).waitFor();
    expect([...other.errors, ...third.errors]).toEqual([]);
  }, 30_000);
});
