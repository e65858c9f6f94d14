import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DASHBOARD = fileURLToPath(new URL('../../../apps/dashboard/', import.meta.url));
/** What the admin server serves at `/` in these tests. */
export const DASHBOARD_DIST = join(DASHBOARD, 'dist');

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), stat.mtimeMs);
}

/**
 * Builds the dashboard when dist/ is missing or older than its sources, so the browser never tests a
 * stale bundle (`pnpm test` does not run the dashboard's vite build before e2e). Only the bundle:
 * type errors are the dashboard's own typecheck's to report, not a reason to skip its behaviour.
 */
export function ensureDashboardBuilt(): string {
  const index = join(DASHBOARD_DIST, 'index.html');
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json', join('..', '..', 'packages', 'protocol', 'src')];
  const newestSource = Math.max(...sources.map((s) => newestMtime(join(DASHBOARD, s))));
  if (existsSync(index) && statSync(index).mtimeMs >= newestSource) return DASHBOARD_DIST;
  try {
    execFileSync('pnpm', ['exec', 'vite', 'build'], { cwd: DASHBOARD, stdio: 'pipe', timeout: 120_000 });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    const output = `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`.slice(-3000);
    throw new Error(`building the dashboard (cd apps/dashboard && pnpm exec vite build) failed: ${e.message}\n${output}`);
  }
  if (!existsSync(index)) throw new Error(`the dashboard build left no ${index}`);
  return DASHBOARD_DIST;
}
