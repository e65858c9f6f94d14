import { LabCluster, LabDnsServer } from '@podgate/lab';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { DATA_PLANE_NODE_FLAGS } from '../src/node-flags.js';

// The built CLI, as `pnpm start` and `pnpm serve` run it (the root test script builds first).
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
// The package's `podgate` bin: a committed launcher of the built CLI.
const BIN = fileURLToPath(new URL('../bin/podgate.js', import.meta.url));
const children: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A loopback port another process holds. */
async function takenPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Runs the CLI as `pnpm start` does (with the data plane's node flags), or with `nodeFlags`. */
function run(
  args: string[],
  nodeFlags: readonly string[] = DATA_PLANE_NODE_FLAGS,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  // Tokens from the caller's environment would stop podgate generating its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PODGATE_')));
  const child = spawn(process.execPath, [...nodeFlags, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'podgate-cli-'));
  const path = join(dir, 'podgate.yaml');
  writeFileSync(path, text);
  return path;
}

describe('podgate CLI', () => {
  it('refuses a bad config with the key path and reason, exit 2 and no stack trace', async () => {
    const path = configFile(
      'dns: { nameservers: [127.0.0.1:53] }\nservices:\n  image-lobby:\n    dnsName: a.b.svc\n    port: 70000\n    retry: { on: [error, http_501] }\n',
    );
    const r = run(['--config', path]);
    expect(await r.exited).toBe(2);
    expect(r.output()).toContain('services.image-lobby.port: must be 1-65535');
    expect(r.output()).toContain('services.image-lobby.retry.on');
    expect(r.output()).not.toMatch(/\n\s+at /);
  });

  it('refuses to serve the admin API beyond loopback without a token: exit 2, the key and the fix named, no token generated or printed', async () => {
    const path = configFile('');
    const state = join(path.replace(/podgate\.yaml$/, ''), 'state');
    writeFileSync(path, `workers: 1\nstateDir: ${state}\nlisten: 127.0.0.1:0\nadmin:\n  listen: 0.0.0.0:18425\n`);
    const r = run(['--config', path]);
    expect(await r.exited).toBe(2);
    expect(r.output()).toContain(`podgate: invalid config ${path}:`);
    expect(r.output()).toContain('admin.listen: 0.0.0.0:18425 is not a loopback address, and no admin token is configured');
    expect(r.output()).toContain('Configure admin.tokens (or PODGATE_OPERATOR_TOKEN / PODGATE_VIEWER_TOKEN), or listen on loopback (127.0.0.1:18425)');
    expect(r.output()).not.toContain('#token=');
    expect(r.output()).not.toMatch(/\n\s+at /);
    expect(existsSync(join(state, 'admin-token'))).toBe(false);
    await expect(request('http://127.0.0.1:18425/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('names a config file it cannot read', async () => {
    const r = run(['--config', '/nonexistent/podgate.yaml']);
    expect(await r.exited).toBe(2);
    expect(r.output()).toContain('/nonexistent/podgate.yaml');
    expect(r.output()).not.toMatch(/\n\s+at /);
  });

  it('warns when node was started without the data plane flags, and only then', async () => {
    const without = run(['--config', '/nonexistent/podgate.yaml'], []);
    await without.exited;
    expect(without.output()).toContain('started without --no-memory-reducer');
    const with_ = run(['--config', '/nonexistent/podgate.yaml']);
    await with_.exited;
    expect(with_.output()).not.toContain('--no-memory-reducer');
  });

  for (const [key, workers] of [
    ['listen', 1],
    ['listen', 2],
    ['admin.listen', 1],
  ] as const) {
    it(`names the address and the key once when ${key} is taken${workers > 1 ? ', from worker processes too' : ''}: exit 1, no stack trace`, async () => {
      const port = await takenPort();
      const path = configFile('');
      const state = join(path.replace(/podgate\.yaml$/, ''), 'state');
      const listen = key === 'listen' ? `127.0.0.1:${port}` : '127.0.0.1:0';
      const admin = key === 'admin.listen' ? `127.0.0.1:${port}` : '127.0.0.1:0';
      writeFileSync(path, `workers: ${workers}\nstateDir: ${state}\nlisten: ${listen}\nadmin: { listen: ${admin} }\n`);
      const r = run(['--config', path]);
      expect(await r.exited).toBe(1);
      const what = key === 'listen' ? 'listen, the proxy' : 'admin.listen, the admin API';
      expect(r.output()).toContain(
        `podgate: cannot start: 127.0.0.1:${port} (${what}) is already in use by another process (EADDRINUSE): set ${key} in ${path} to a free address, or stop that process\n`,
      );
      expect(r.output().match(/EADDRINUSE/g)).toHaveLength(1);
      expect(r.output()).not.toMatch(/\n\s+at /);
    });
  }

  it('runs as the podgate bin, whose first line gives node the data plane flags', async () => {
    const child = spawn(BIN, ['--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    expect(out).toContain('usage: podgate');
    expect(out).not.toContain('started without');
  });

  it('refuses an unknown flag with the usage', async () => {
    const r = run(['--confgi', 'x']);
    expect(await r.exited).toBe(2);
    expect(r.output()).toContain('usage: podgate');
  });

  // A Deployment that forgot --config must not serve lab pods with a fresh operator token.
  it('without --config prints the usage and exits 2 at once: no demo, no token', async () => {
    const r = run([]);
    expect(await r.exited).toBe(2);
    expect(r.output()).toContain('no config: give --config FILE (or run `podgate demo`');
    expect(r.output()).toContain('usage: podgate --config podgate.yaml');
    expect(r.output()).not.toMatch(/token|curl|lab pods/);
  });

  it('refuses an unknown command, demo with a config, and demo flags without demo, each with the usage and exit 2', async () => {
    const cases: [string[], string][] = [
      [['serve'], 'unknown command "serve"'],
      [['demo', '--config', '/nonexistent/podgate.yaml'], 'demo runs its own lab and config'],
      [['--config', '/nonexistent/podgate.yaml', '--port', '8081'], '--port, --rate and --fleet are for the demo'],
      [['demo', '--rate', 'lots'], '--rate must be a number from 0 to 1000, got "lots"'],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect(await r.exited, args.join(' ')).toBe(2);
      expect(r.output()).toContain(message);
      expect(r.output()).toContain('usage: podgate');
    }
  });

  it('does not depend on the lab at run time: the demo imports it when asked for', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).not.toContain('@podgate/lab');
  });

  it('serves a config file against a lab cluster and stops cleanly on SIGTERM', async () => {
    const dns = await LabDnsServer.start();
    const cluster = await LabCluster.start({ dns, dnsName: 'cli.lab.svc.cluster.local', replicas: 2, port: 18420, subnet: 214 });
    try {
      const path = configFile(
        `listen: 127.0.0.1:18421\ndns: { nameservers: [${dns.nameserver}], timeout: 500ms }\nlog: { level: info }\n` +
          `services:\n  cli:\n    dnsName: cli.lab.svc.cluster.local\n    port: 18420\n`,
      );
      const r = run(['--config', path]);
      await waitFor(() => r.output().includes('DNS: cli has 2 addresses') && r.output().includes('podgate is serving'), 10_000);
      const pods = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const res = await request('http://127.0.0.1:18421/recognize', { method: 'POST', body: 'img' });
        pods.add(((await res.body.json()) as { pod: string }).pod);
      }
      expect(pods.size).toBe(2);
      r.child.kill('SIGTERM');
      expect(await r.exited).toBe(0);
      expect(r.output()).toContain('"status":200');
    } finally {
      await cluster.close();
      await dns.close();
    }
  });

  // Root cause: Ctrl-C under `pnpm start` reaches podgate twice (the terminal signals the process
  // group, then pnpm relays it: pnpm/pnpm#7374); the second SIGINT found no handler and killed node
  // by the signal mid-shutdown, which pnpm reported as `ELIFECYCLE Command failed`.
  it('finishes its in-flight requests and exits 0 when a Ctrl-C reaches it twice, as under pnpm start', async () => {
    const dns = await LabDnsServer.start();
    const cluster = await LabCluster.start({ dns, dnsName: 'sigint.lab.svc.cluster.local', replicas: 1, port: 18420, subnet: 215 });
    try {
      const path = configFile('');
      const state = join(path.replace(/podgate\.yaml$/, ''), 'state');
      writeFileSync(
        path,
        `workers: 1\nstateDir: ${state}\nlisten: 127.0.0.1:18428\nadmin: { listen: 127.0.0.1:0 }\ndns: { nameservers: [${dns.nameserver}] }\n` +
          `log: { level: info }\nservices:\n  sigint:\n    dnsName: sigint.lab.svc.cluster.local\n    port: 18420\n`,
      );
      const r = run(['--config', path]);
      await waitFor(() => r.output().includes('DNS: sigint has 1 addresses') && r.output().includes('podgate is serving'), 10_000);
      const slow = request('http://127.0.0.1:18428/slow/1000');
      await new Promise((resolve) => setTimeout(resolve, 100));
      r.child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 100));
      r.child.kill('SIGINT');
      const answer = await slow;
      expect(answer.statusCode).toBe(200);
      await answer.body.dump();
      expect(await r.exited).toBe(0);
      expect(r.output()).toContain('stopping: no new connections');
    } finally {
      await cluster.close();
      await dns.close();
    }
  });

  it('refuses a SIGHUP whose new defaults make a service added through the API invalid, logs why and keeps serving', async () => {
    const dns = await LabDnsServer.start();
    dns.setRecords('hup.lab.svc.cluster.local', { a: ['127.0.46.1'], ttl: 30 });
    const token = 'operator-token-hup-0123456789';
    const path = configFile('');
    const state = join(path.replace(/podgate\.yaml$/, ''), 'state');
    const text = (maxSize: string): string =>
      `workers: 1\nstateDir: ${state}\nlisten: 127.0.0.1:0\nlog: { level: info, access: false }\n` +
      `admin: { listen: 127.0.0.1:18426, tokens: [{ name: alice, token: ${token}, role: operator }] }\n` +
      `dns: { nameservers: [${dns.nameserver}] }\ndefaults: { body: { bufferSize: 64KiB, maxSize: ${maxSize} } }\n`;
    writeFileSync(path, text('2MiB'));
    const r = run(['--config', path]);
    try {
      await waitFor(() => r.output().includes('podgate is serving'), 10_000);
      const added = await request('http://127.0.0.1:18426/api/v1/services', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'hup', dnsName: 'hup.lab.svc.cluster.local', port: 18427, body: { bufferSize: '1536KiB' } }),
      });
      expect(added.statusCode).toBe(201);
      await added.body.dump();
      writeFileSync(path, text('1MiB'));
      r.child.kill('SIGHUP');
      await waitFor(() => r.output().includes('config reload refused'), 5_000).catch((err: unknown) => {
        throw new Error(`${String(err)}: ${r.output()}`);
      });
      expect(r.output()).toContain('service hup (added through the API) is not valid under the new config');
      expect(r.output()).not.toContain('"msg":"config reloaded"');
      const health = await request('http://127.0.0.1:18426/healthz');
      expect(health.statusCode).toBe(200);
      await health.body.dump();
      r.child.kill('SIGTERM');
      expect(await r.exited).toBe(0);
    } finally {
      await dns.close();
    }
  });

  it('stops with a clear message on a corrupt state file and leaves it untouched', async () => {
    const path = configFile('');
    const dir = path.replace(/podgate\.yaml$/, '');
    mkdirSync(join(dir, 'state'));
    writeFileSync(join(dir, 'state', 'state.json'), '{"version": 1, "services": [');
    writeFileSync(path, `workers: 1\nstateDir: ${join(dir, 'state')}\nadmin: { listen: 127.0.0.1:0 }\nlisten: 127.0.0.1:0\n`);
    const r = run(['--config', path]);
    expect(await r.exited).toBe(1);
    expect(r.output()).toContain('PODGATE_STATE_CORRUPT');
    expect(r.output()).toContain(join(dir, 'state', 'state.json'));
    expect(readFileSync(join(dir, 'state', 'state.json'), 'utf8')).toBe('{"version": 1, "services": [');
  });

  it('generates an operator token on first start, prints the dashboard URL with it once, and keeps it private', async () => {
    const path = configFile('');
    const state = join(path.replace(/podgate\.yaml$/, ''), 'state');
    writeFileSync(path, `workers: 1\nstateDir: ${state}\nadmin: { listen: 127.0.0.1:18423 }\nlisten: 127.0.0.1:0\n`);
    const first = run(['--config', path]);
    await waitFor(() => first.output().includes('podgate is serving'), 10_000);
    const token = readFileSync(join(state, 'admin-token'), 'utf8').trim();
    expect(statSync(join(state, 'admin-token')).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain(`http://127.0.0.1:18423/#token=${token}`);
    const res = await request('http://127.0.0.1:18423/api/v1/services', { headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = run(['--config', path]);
    await waitFor(() => second.output().includes('podgate is serving'), 10_000);
    expect(second.output()).not.toContain(token);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('runs the loopback demo (podgate demo) and prints a curl line that works', async () => {
    const r = run(['demo', '--port', '18422']);
    await waitFor(() => r.output().includes('curl -s'), 10_000);
    const line = /curl -s -X POST --data-binary '([^']*)' (\S+)/.exec(r.output());
    expect(line?.[2]).toBe('http://127.0.0.1:18422/recognize');
    await waitFor(() => r.output().includes('has 4 addresses'), 10_000);
    const res = await request(line?.[2] as string, { method: 'POST', body: line?.[1] });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { pod: string }).pod).toMatch(/^image-lobby-\d$/);
    // Traffic flows in the background (20 req/s by default) for the dashboard to show.
    const token = /#token=(\S+)/.exec(r.output())?.[1] ?? '';
    const served = async (): Promise<number> => {
      const view = await request('http://127.0.0.1:9901/api/v1/services/image-lobby', { headers: { authorization: `Bearer ${token}` } });
      expect(view.statusCode).toBe(200);
      return ((await view.body.json()) as { requests: number }).requests;
    };
    const before = await served();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await served()) - before).toBeGreaterThanOrEqual(10);
    r.child.kill('SIGINT');
    expect(await r.exited).toBe(0);
  });

  it('runs the demo as a fleet of two instances sharing a redis-server of its own (--fleet 2)', async () => {
    const r = run(['demo', '--port', '18426', '--fleet', '2', '--rate', '0']);
    await waitFor(() => r.output().includes('curl -s'), 15_000);
    expect(r.output()).toContain('podgate demo fleet: 2 instances');
    const token = /operator token "([^"]+)"/.exec(r.output())?.[1] ?? '';
    const fleetOf = async (admin: string): Promise<{ state: string; instances: unknown[] }> => {
      const res = await request(`http://${admin}/api/v1/fleet`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      return (await res.body.json()) as { state: string; instances: unknown[] };
    };
    for (const admin of ['127.0.0.1:9901', '127.0.0.1:9902']) {
      const deadline = Date.now() + 10_000;
      let fleet = await fleetOf(admin);
      while ((fleet.state !== 'ok' || fleet.instances.length !== 2) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        fleet = await fleetOf(admin);
      }
      expect(fleet).toMatchObject({ state: 'ok', name: 'demo' });
      expect(fleet.instances).toHaveLength(2);
    }
    r.child.kill('SIGINT');
    expect(await r.exited).toBe(0);
  });
});
