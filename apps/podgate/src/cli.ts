#!/usr/bin/env -S node --no-memory-reducer
import { parseArgs } from 'node:util';
import { isConfigError, loadConfigFile } from '@podgate/config';
import type { PodgateConfig } from '@podgate/protocol';
import type { Demo } from './demo.js';
import { missingNodeFlags } from './node-flags.js';
import { Podgate } from './podgate.js';

// In-flight requests get this long to finish on SIGTERM (Kubernetes gives a pod 30 s in all).
const GRACE_MS = 20_000;

const USAGE = `usage: podgate --config podgate.yaml
       podgate demo [--port N] [--rate N] [--fleet N]

  --config FILE   run with this config (see docs/config.md)
  demo            run a demo on loopback: a lab DNS server, 4 pods, and podgate in front
  --port N        demo only: where podgate listens (default 8080)
  --rate N        demo only: background requests per second through podgate, with a rolling
                  update every minute, for the dashboard to show (default 20; 0 = none)
  --fleet N       demo only: N instances acting as one through a redis-server of the demo's
                  own (needs redis-server), proxies on --port and up, admin APIs on 9901 and up (1-9)
  --help          this text`;

/** A usage mistake: the usage is printed and podgate exits 2, as for a bad flag. */
class UsageError extends Error {}

type Command = { kind: 'serve'; configPath: string } | { kind: 'demo'; port: number; rate: number; fleet: number };

/**
 * What to run. No command and no `--config` is a mistake, not a demo: a Deployment that forgot
 * the flag must not serve lab pods with a fresh operator token.
 */
function commandOf(values: { config?: string; port?: string; rate?: string; fleet?: string }, positionals: string[]): Command {
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'demo')) throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  if (positionals[0] === 'demo') {
    if (values.config !== undefined) throw new UsageError('demo runs its own lab and config: drop --config, or drop demo');
    const rate = values.rate === undefined ? 20 : Number(values.rate);
    if (!Number.isFinite(rate) || rate < 0 || rate > 1000) throw new UsageError(`--rate must be a number from 0 to 1000, got "${values.rate}"`);
    const port = values.port === undefined ? 8080 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be a port number, got "${values.port}"`);
    const fleet = values.fleet === undefined ? 1 : Number(values.fleet);
    if (!Number.isInteger(fleet) || fleet < 1 || fleet > 9) throw new UsageError(`--fleet must be a number of instances from 1 to 9, got "${values.fleet}"`);
    return { kind: 'demo', port, rate, fleet };
  }
  if (values.config === undefined) throw new UsageError('no config: give --config FILE (or run `podgate demo` to try podgate on loopback)');
  if (values.port !== undefined || values.rate !== undefined || values.fleet !== undefined)
    throw new UsageError('--port, --rate and --fleet are for the demo; the config file says where podgate listens');
  return { kind: 'serve', configPath: values.config };
}

async function main(): Promise<number> {
  let args;
  try {
    // `pnpm start -- --port 8081` style: a lone `--` separator reaches us through pnpm; skip it.
    const argv = process.argv.slice(2).filter((a) => a !== '--');
    args = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, port: { type: 'string' }, rate: { type: 'string' }, fleet: { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`podgate: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let command: Command;
  try {
    command = commandOf(args.values, args.positionals);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`podgate: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  const missing = missingNodeFlags();
  if (missing.length > 0) {
    // Workers get them from the primary; with workers: 1 the data plane runs in this process.
    process.stderr.write(
      `podgate: node was started without ${missing.join(' ')}; after a quiet spell the data plane then spends up to half as much CPU again per request until its heap regrows (run \`node ${missing.join(' ')} apps/podgate/dist/cli.js\`, or the podgate bin)\n`,
    );
  }
  let demo: Demo | null = null;
  let podgate: Podgate;
  /** A demo fleet's other instances. */
  const others: Podgate[] = [];
  const configPath = command.kind === 'serve' ? command.configPath : undefined;
  const onTokenCreated = (url: string): void => {
    process.stdout.write(
      `\nadmin API and dashboard: ${url}\n(an operator token was generated and stored in the state directory; it is shown only this once)\n\n`,
    );
  };
  try {
    if (command.kind === 'serve') {
      podgate = await Podgate.start(await loadConfigFile(command.configPath), { onTokenCreated });
    } else {
      const { rate } = command;
      // The lab (simulated pods and DNS) is loaded only here: serving a config never needs it.
      const { startDemo } = await import('./demo.js');
      demo = await startDemo(command.port, { fleet: command.fleet });
      const [first, ...rest] = demo.configs as [PodgateConfig, ...PodgateConfig[]];
      podgate = await Podgate.start(first, { onTokenCreated });
      for (const config of rest) others.push(await Podgate.start(config));
      const port = podgate.port;
      if (rate > 0) demo.startTraffic(`http://127.0.0.1:${port}`, { ratePerSecond: rate });
      if (demo.token !== null) {
        const token = demo.token;
        const lines = [podgate, ...others].map((p) => `  proxy 127.0.0.1:${p.port}   dashboard http://${p.adminAddress}/#token=${token}`);
        process.stdout.write(
          `\npodgate demo fleet: ${lines.length} instances acting as one through a redis-server of the demo's own (operator token "${token}", kept in no file):\n\n${lines.join('\n')}\n\nDrain a pod in one dashboard and watch the others; the background traffic goes through the first.\n`,
        );
      }
      process.stdout.write(
        `\npodgate demo: 4 lab pods behind podgate on 127.0.0.1:${port}. Try:\n\n` +
          `  curl -s -X POST --data-binary 'an image' http://127.0.0.1:${port}/recognize\n\n` +
          `Each answer names the pod that served it.` +
          (rate > 0 ? ` ${rate} requests a second flow in the background and the lab rolls the pods every minute: open the dashboard above to watch.` : '') +
          ` Ctrl-C stops the demo.\n\n`,
      );
    }
  } catch (err) {
    if (isConfigError(err)) {
      process.stderr.write(`podgate: invalid config${err.source === undefined ? '' : ` ${err.source}`}:\n${err.message}\n`);
      return 2;
    }
    const e = err as { code?: string; message?: string };
    process.stderr.write(`podgate: cannot start: ${e.code === undefined ? '' : `${e.code}: `}${e.message ?? String(err)}\n`);
    await Promise.all(others.map((p) => p.close(0)));
    await demo?.close();
    return 1;
  }
  if (configPath !== undefined) {
    // SIGHUP: reload without dropping connections; a bad file is refused and the old config stays.
    process.on('SIGHUP', () => {
      // A file the reload itself refuses (an API-added service invalid under its defaults) is
      // refused the same way as one that does not parse.
      loadConfigFile(configPath)
        .then((next) => {
          const ignored = podgate.reload(next);
          podgate.logger.info({ services: next.services.map((s) => s.name) }, 'config reloaded');
          if (ignored.length > 0) podgate.logger.warn({ keys: ignored }, `config keys that need a restart were not applied: ${ignored.join(', ')}`);
        })
        .catch((err: unknown) =>
          podgate.logger.error({ err: (err as Error).message }, `config reload refused, the running config stays: ${(err as Error).message}`),
        );
    });
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  podgate.logger.info('stopping: no new connections, finishing in-flight requests');
  await Promise.all([podgate, ...others].map((p) => p.close(GRACE_MS)));
  await demo?.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`podgate: ${String(err)}\n`);
    process.exit(1);
  },
);
