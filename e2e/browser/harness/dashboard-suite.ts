import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchChromium } from './chromium.js';
import { startLabPodgate, type LabPodgate, type LabPodgateOptions } from './lab-podgate.js';
import { DashboardTabs } from './tabs.js';

/** What a browser test file uses: its lab podgate, Chromium, and the tabs it opens. */
export interface DashboardSuite {
  readonly lab: LabPodgate;
  readonly browser: Browser;
  readonly tabs: DashboardTabs;
}

/**
 * One lab podgate and one Chromium for a test file: started before its tests (the lab, then
 * `ready`, e.g. waiting for its peers, then the browser), closed after them; each test's tabs are
 * finished after it (tabs.ts).
 */
export function dashboardSuite(options: LabPodgateOptions, ready?: (lab: LabPodgate) => Promise<unknown>): DashboardSuite {
  let lab: LabPodgate | undefined;
  let browser: Browser | undefined;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started yet (beforeAll)`);
    return value;
  };
  const suite: DashboardSuite = {
    get lab() {
      return started(lab, 'the lab podgate');
    },
    get browser() {
      return started(browser, 'Chromium');
    },
    tabs: new DashboardTabs(
      () => suite.browser,
      () => suite.lab.adminUrl,
    ),
  };
  beforeAll(async () => {
    lab = await startLabPodgate(options);
    await ready?.(lab);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lab?.close();
  });
  afterEach((ctx) => suite.tabs.finish(ctx));
  return suite;
}
