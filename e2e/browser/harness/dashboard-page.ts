import type { Locator, Page } from 'playwright-core';
import { setTimeout as sleep } from 'node:timers/promises';

/** Retries `check` (an assertion) until it passes or `ms` runs out; then throws its last error. */
export async function eventually<T>(check: () => Promise<T> | T, ms: number, intervalMs = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(intervalMs);
    }
  }
}

export interface PodRowView {
  address: string;
  state: string;
}

/** The dashboard's pages in the words of its UI contract: accessible names and test ids. */
export class DashboardPage {
  constructor(
    readonly page: Page,
    readonly adminUrl: string,
  ) {}

  /** Signs in through the URL fragment, as the URL podgate prints on first start does. */
  async signIn(token: string): Promise<void> {
    await this.page.goto(`${this.adminUrl}/#token=${encodeURIComponent(token)}`);
    await this.nav('Overview').waitFor();
  }

  /** A hash route, e.g. `#/ejected`: same document, no reload, the live feed stays connected. */
  async open(route: string): Promise<void> {
    await this.page.goto(`${this.adminUrl}/${route}`);
  }

  async openService(name: string): Promise<void> {
    await this.open(`#/services/${encodeURIComponent(name)}`);
    await this.page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
  }

  nav(name: string): Locator {
    return this.page.getByRole('navigation').getByRole('link', { name, exact: true });
  }

  get liveStatus(): Locator {
    return this.page.getByTestId('live-status');
  }

  get servicesTable(): Locator {
    return this.page.getByRole('table', { name: 'Services', exact: true });
  }

  serviceRow(name: string): Locator {
    return this.page.getByTestId(`service-row-${name}`);
  }

  get podsTable(): Locator {
    return this.page.getByRole('table', { name: 'Pods', exact: true });
  }

  podRow(address: string): Locator {
    return this.page.getByTestId(`pod-row-${address}`);
  }

  podState(address: string): Locator {
    return this.podRow(address).getByTestId('pod-state');
  }

  podButton(address: string, action: 'Drain' | 'Eject' | 'Restore'): Locator {
    return this.podRow(address).getByRole('button', { name: action, exact: true });
  }

  get dialog(): Locator {
    return this.page.getByRole('dialog');
  }

  get timeline(): Locator {
    return this.page.getByRole('list', { name: 'Rollout timeline', exact: true });
  }

  ejectedRow(service: string, address: string): Locator {
    return this.page.getByTestId(`ejected-row-${service}-${address}`);
  }

  /** Every row of the pods table with its state badge, read in one round trip. */
  async podRows(): Promise<PodRowView[]> {
    return this.page.getByTestId(/^pod-row-/).evaluateAll((rows) =>
      rows.map((row) => ({
        address: (row.getAttribute('data-testid') ?? '').slice('pod-row-'.length),
        state: (row.querySelector('[data-testid="pod-state"]')?.textContent ?? '').trim(),
      })),
    );
  }

  async textOf(locator: Locator): Promise<string> {
    return ((await locator.textContent()) ?? '').trim();
  }

  /** Waits until the locator's text matches; the message names what it saw last. */
  async waitForText(locator: Locator, expected: string | RegExp, ms = 5000): Promise<void> {
    let last = '';
    try {
      await eventually(async () => {
        last = (await locator.count()) === 0 ? '<absent>' : await this.textOf(locator.first());
        if (typeof expected === 'string' ? last !== expected : !expected.test(last)) throw new Error('no match');
      }, ms);
    } catch {
      throw new Error(`expected ${String(locator)} to read ${String(expected)} within ${ms} ms; it read ${JSON.stringify(last)}`);
    }
  }
}
