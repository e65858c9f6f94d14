import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  kernel: string;
  memoryGiB: number;
  loadAverage1m: number;
  platform: string;
}

export interface Versions {
  node: string;
  podgate: string;
  wrk: string;
  nginx: string | null;
  caddy: string | null;
  fastify: string;
  fastifyHttpProxy: string;
  httpProxy: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    kernel: `${os.type()} ${os.release()} ${os.version()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage1m: os.loadavg()[0] ?? 0,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

/** First line of a command's output (stdout or stderr: nginx -v and wrk -v write to stderr), or null when absent. */
function toolVersion(command: string, args: string[]): string | null {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error !== undefined) return null;
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return text.split('\n')[0]?.trim() ?? null;
}

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'bench', 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

function podgateRevision(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return `${rev}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

export function versions(): Versions {
  return {
    node: process.version,
    podgate: podgateRevision(),
    wrk: toolVersion('wrk', ['-v']) ?? 'not installed',
    nginx: commandExists('nginx') ? (toolVersion('nginx', ['-v']) ?? 'unknown') : null,
    caddy: commandExists('caddy') ? (toolVersion('caddy', ['version']) ?? 'unknown') : null,
    fastify: packageVersion('fastify'),
    fastifyHttpProxy: packageVersion('@fastify/http-proxy'),
    httpProxy: packageVersion('http-proxy'),
  };
}
