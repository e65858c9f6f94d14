import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

/** e2e/artifacts/ (gitignored): screenshots for people, kept after the run. */
export const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));

export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, timeout: 10_000, fullPage: options.fullPage ?? false });
  return path;
}

/** A screenshot named after a failed test, so a CI failure can be looked at. */
export async function screenshotOnFailure(page: Page | undefined, testName: string): Promise<void> {
  if (page === undefined || page.isClosed()) return;
  const slug = testName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 80);
  await screenshot(page, `failed-${slug}.png`).catch(() => undefined);
}
