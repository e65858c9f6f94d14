import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). `playwright install` needs the internet. */
export const CHROMIUM = process.env.PODGATE_CHROMIUM ?? '/usr/bin/chromium';

// Headless on a CI box with no GPU, no sandbox (root in a container) and nothing that phones home:
// every page the browser opens is the admin address on loopback.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * Launches Chromium. Playwright gives it a fresh profile of its own (an mkdtemp directory under the OS
 * temp dir, removed on close): it refuses `--user-data-dir` in `launch()`, which would share one
 * profile between contexts.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set PODGATE_CHROMIUM`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
}

export interface DashboardTab {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page: a React crash shows up here, not as a failed click. */
  errors: string[];
}

/** A new browser context (its own storage, so signing in as a viewer does not sign the operator out) and one page. */
export async function openTab(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<DashboardTab> {
  const context = await browser.newContext({ viewport });
  // Bounded: a selector that never matches fails the test in seconds, not at the test timeout.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.stack ?? err.message));
  return { context, page, errors };
}
