import type { Browser } from 'playwright-core';
import { expect, type TestContext } from 'vitest';
import { screenshotOnFailure } from './artifacts.js';
import { openTab, type DashboardTab } from './chromium.js';
import { DashboardPage } from './dashboard-page.js';

/**
 * The dashboard tabs a test opens. After each test (`finish` in afterEach) every one is
 * screenshotted when the test failed, closed, and checked for uncaught exceptions in the page.
 */
export class DashboardTabs {
  private open: DashboardTab[] = [];

  constructor(
    private readonly browser: () => Browser,
    private readonly adminUrl: () => string,
  ) {}

  /** A fresh tab on the dashboard, not signed in yet. */
  async page(viewport?: { width: number; height: number }): Promise<DashboardPage> {
    const tab = await openTab(this.browser(), viewport);
    this.open.push(tab);
    return new DashboardPage(tab.page, this.adminUrl());
  }

  /** A fresh tab signed in with `token`. */
  async signedIn(token: string, viewport?: { width: number; height: number }): Promise<DashboardPage> {
    const dash = await this.page(viewport);
    await dash.signIn(token);
    return dash;
  }

  async finish(ctx: TestContext): Promise<void> {
    const tabs = this.open;
    this.open = [];
    if (ctx.task.result?.state === 'fail') {
      for (const [i, tab] of tabs.entries()) await screenshotOnFailure(tab.page, tabs.length === 1 ? ctx.task.name : `${ctx.task.name} ${i}`);
    }
    for (const tab of tabs) await tab.context.close();
    expect(
      tabs.flatMap((t) => t.errors),
      'uncaught exceptions in the page',
    ).toEqual([]);
  }
}
