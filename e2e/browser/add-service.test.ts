import type { Locator } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { dashboardSuite } from './harness/dashboard-suite.js';
import { DashboardPage } from './harness/dashboard-page.js';
import { dnsNameOf, OPERATOR_TOKEN } from './harness/lab-podgate.js';

const suite = dashboardSuite({ clusters: [{ name: 'checkout', subnet: 222, port: 18460, replicas: 3 }] });
let dash: DashboardPage;

beforeEach(async () => {
  dash = await suite.tabs.signedIn(OPERATOR_TOKEN);
});

async function fillServiceForm(fields: { name: string; dnsName: string; port: string; pathPrefix: string; host?: string }): Promise<void> {
  const page = dash.page;
  await dash.nav('Add service').click();
  await page.getByLabel('Name', { exact: true }).fill(fields.name);
  await page.getByLabel('DNS name', { exact: true }).fill(fields.dnsName);
  await page.getByLabel('Port', { exact: true }).fill(fields.port);
  await page.getByLabel('Path prefix', { exact: true }).fill(fields.pathPrefix);
  await page.getByLabel('Host', { exact: true }).fill(fields.host ?? '');
}

function submitButton(): Locator {
  return dash.page.getByRole('button', { name: 'Add service', exact: true });
}

describe('add service form', () => {
  it('adds a service through the form and shows its pods within 2 s', async () => {
    const cluster = suite.lab.cluster('checkout');
    await fillServiceForm({ name: 'checkout', dnsName: dnsNameOf('checkout'), port: String(cluster.port), pathPrefix: '/checkout' });
    const submitted = Date.now();
    await submitButton().click();

    await dash.page.getByRole('heading', { level: 1, name: 'checkout', exact: true }).waitFor({ timeout: 2000 });
    for (const pod of cluster.pods) await dash.podRow(pod.address).waitFor({ timeout: Math.max(1, 2000 - (Date.now() - submitted)) });
    expect(Date.now() - submitted).toBeLessThan(2000);
    for (const pod of cluster.pods) await dash.waitForText(dash.podState(pod.address), 'active', 1000);

    const created = await suite.lab.api('GET', '/services/checkout', OPERATOR_TOKEN);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ source: 'api', dnsName: dnsNameOf('checkout'), routes: [{ pathPrefix: '/checkout' }] });
  }, 30_000);

  it('shows a field error for a bad name and an out-of-range port, and adds nothing', async () => {
    await fillServiceForm({ name: 'Bad_Name', dnsName: dnsNameOf('checkout'), port: '70000', pathPrefix: '/bad' });
    await submitButton().click();

    // The error elements are there, empty, before any error: wait for words in them.
    await dash.waitForText(dash.page.locator('#name-error'), /\S/, 2000);
    await dash.waitForText(dash.page.locator('#port-error'), /\S/, 2000);
    const names = ((await suite.lab.api('GET', '/services', OPERATOR_TOKEN)).body.services as { name: string }[]).map((s) => s.name);
    expect(names).not.toContain('Bad_Name');
  }, 30_000);

  it("shows the server's 409 for a route another service serves, not swallowing it", async () => {
    const existing = await suite.lab.api('POST', '/services', OPERATOR_TOKEN, {
      name: 'payments',
      dnsName: dnsNameOf('checkout'),
      port: 18460,
      routes: [{ pathPrefix: '/payments' }],
    });
    expect(existing.status).toBe(201);
    await fillServiceForm({ name: 'payments-v2', dnsName: dnsNameOf('checkout'), port: '18460', pathPrefix: '/payments' });

    const [reply] = await Promise.all([
      dash.page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/services'),
      submitButton().click(),
    ]);
    expect(reply.status()).toBe(409);
    const { message } = (await reply.json()) as { message: string };
    expect(message).not.toBe('');
    // Shown as the form's alert or at the field the server named: either way, the server's words.
    const shown = dash.page.locator('[role="alert"], [id$="-error"]').filter({ hasText: message });
    await shown.first().waitFor({ timeout: 2000 });
    expect((await suite.lab.api('GET', '/services/payments-v2', OPERATOR_TOKEN)).status).toBe(404);
  }, 30_000);
});
