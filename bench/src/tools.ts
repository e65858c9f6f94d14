import { spawnSync } from 'node:child_process';
import { commandExists } from './machine-info.js';

const INSTALL_HINT = 'install it with: sudo apt-get install -y wrk nginx caddy   (wrk is required; nginx and caddy are compared when present)';

/**
 * wrk is required; nginx and Caddy are optional. When wrk is missing and we are root (a fresh CI
 * or dev machine), install all three from Debian; otherwise say how and give up.
 */
export function ensureTools(log: (line: string) => void): { ok: true } | { ok: false; message: string } {
  if (commandExists('wrk')) return { ok: true };
  if (process.getuid?.() !== 0) return { ok: false, message: `bench: wrk is not installed; ${INSTALL_HINT}` };
  log('bench: wrk is missing; running apt-get install -y wrk nginx caddy');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): boolean =>
    spawnSync('apt-get', ['install', '-y', '-qq', 'wrk', 'nginx', 'caddy'], { stdio: 'inherit', env, timeout: 300_000 }).status === 0;
  // A fresh machine has no package lists yet: update once, then retry.
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: 300_000 });
    install();
  }
  return commandExists('wrk') ? { ok: true } : { ok: false, message: `bench: apt-get could not install wrk; ${INSTALL_HINT}` };
}
