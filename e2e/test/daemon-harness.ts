import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { DATA_PLANE_NODE_FLAGS } from '@podgate/podgate/node-flags';

export const CLI = fileURLToPath(new URL('../../apps/podgate/dist/cli.js', import.meta.url));
export const OPERATOR = 'operator-token-0123456789abcdef';
export const VIEWER = 'viewer-token-0123456789abcdef00';

/** A podgate daemon run as users run it: the built CLI in its own process, with a config file. */
export class Daemon {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(
    readonly child: ChildProcess,
    readonly configPath: string,
  ) {
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  static start(configPath: string): Daemon {
    return new Daemon(spawn(process.execPath, [...DATA_PLANE_NODE_FLAGS, CLI, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] }), configPath);
  }

  async waitFor(text: string | RegExp, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(typeof text === 'string' ? this.output.includes(text) : text.test(this.output))) {
      if (Date.now() > end) throw new Error(`daemon did not print ${String(text)} within ${ms} ms; output:\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

export function writeConfig(text: string, dir = mkdtempSync(join(tmpdir(), 'podgate-daemon-'))): { dir: string; path: string } {
  const path = join(dir, 'podgate.yaml');
  writeFileSync(path, text);
  return { dir, path };
}

/** A config with admin tokens, one service, the state directory next to the file. */
export function daemonConfig(o: {
  dir: string;
  listen: number;
  admin: number;
  nameserver: string;
  dnsName: string;
  podPort: number;
  workers?: number;
  extra?: string;
}): string {
  return [
    `listen: 127.0.0.1:${o.listen}`,
    `workers: ${o.workers ?? 1}`,
    `stateDir: ${join(o.dir, 'state')}`,
    `admin:`,
    `  listen: 127.0.0.1:${o.admin}`,
    `  tokens:`,
    `    - { name: alice, token: ${OPERATOR}, role: operator }`,
    `    - { name: victor, token: ${VIEWER}, role: viewer }`,
    `dns: { nameservers: [${o.nameserver}], timeout: 300ms, attempts: 1, minRefresh: 200ms, maxRefresh: 2s }`,
    `log: { level: info, access: false }`,
    `services:`,
    `  svc:`,
    `    dnsName: ${o.dnsName}`,
    `    port: ${o.podPort}`,
    o.extra ?? '',
  ].join('\n');
}

export async function api(adminPort: number, method: string, path: string, body?: unknown, token = OPERATOR): Promise<{ status: number; json: unknown }> {
  const res = await request(`http://127.0.0.1:${adminPort}/api/v1${path}`, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text === '' ? null : JSON.parse(text) };
}
