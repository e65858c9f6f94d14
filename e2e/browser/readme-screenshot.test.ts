import { runLoad } from '@podgate/lab';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { screenshot } from './harness/artifacts.js';
import { dashboardSuite } from './harness/dashboard-suite.js';
import { dnsNameOf, OPERATOR_TOKEN } from './harness/lab-podgate.js';

/*
 * The demo in miniature (`podgate demo`: 4 pods, 20 requests a second, a rolling update whose old
 * pods refuse connections), watched on the service page: the requests/s line holds at 20, and the
 * page after the rollout is the README's screenshot. PODGATE_DOCS_SCREENSHOT=1 writes it to
 * docs/dashboard.png; otherwise it stays in e2e/artifacts/readme-dashboard.png.
 */

const SERVICE = 'image-lobby';
const RATE = 20;
const DOCS_PNG = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));
const stop = new AbortController();
const suite = dashboardSuite(
  {
    clusters: [{ name: SERVICE, subnet: 229, port: 18467, replicas: 4 }],
    services: { [SERVICE]: { dnsName: dnsNameOf(SERVICE), port: 18467, routes: [{ pathPrefix: '/' }] } },
  },
  (lab) => lab.waitForPeers(SERVICE, 4),
);
// Registered after the suite's: runs first (hooks run as a stack), so the load stops before podgate does.
afterAll(() => stop.abort());

describe('the demo, watched on the service page', () => {
  it('reads a steady 20 req/s as 20 throughout, and shows a rolling update', async () => {
    const dash = await suite.tabs.signedIn(OPERATOR_TOKEN, { width: 1280, height: 800 });
    await dash.openService(SERVICE);
    const load = runLoad({
      url: `${suite.lab.proxyUrl}/recognize`,
      bodyBytes: 4096,
      ratePerSecond: RATE,
      durationMs: 120_000,
      timeoutMs: 15_000,
      stop: stop.signal,
    });

    // The rate window is 10 s: from 15 s on, every reading of the requests/s caption is 20.
    const caption = dash.page.locator('figure').filter({ hasText: 'Requests per second' }).locator('figcaption strong');
    await caption.waitFor({ timeout: 15_000 });
    await sleep(15_000);
    const readings: string[] = [];
    for (let i = 0; i < 40; i++) {
      readings.push(await dash.textOf(caption));
      await sleep(500);
    }
    expect(new Set(readings), `requests/s readings at a steady ${RATE} req/s`).toEqual(new Set([String(RATE)]));

    await suite.lab.cluster(SERVICE).rollingUpdate({ mode: 'refuse', graceMs: 2000, stepPauseMs: 1000 });
    await sleep(3000);
    const path = await screenshot(dash.page, 'readme-dashboard.png', { fullPage: true });
    if (process.env.PODGATE_DOCS_SCREENSHOT === '1') copyFileSync(path, DOCS_PNG);
    stop.abort();
    await load;
  }, 150_000);
});
