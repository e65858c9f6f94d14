#!/usr/bin/env -S node --no-memory-reducer
import { parseArgs } from 'node:util';
import { isConfigError, loadConfigFile } from '@podgate/config';
import type { PodgateConfig } from '@podgate/protocol';
import type { Demo } from './demo.js';
import { listenFailure, type ListenPlace } from './listen-error.js';
import { missingNodeFlags } from './node-flags.js';
import { Podgate } from './podgate.js';

// In-flight requests get this long to finish on SIGTERM (Kubernetes gives a pod 30 s in all).
const GRACE_MS = 20_000;
// A second SIGINT this soon after the first is `pnpm start` relaying the same Ctrl-C (see below).
const RELAYED_SIGNAL_MS = 1000;

const USAGE = `usage: podgate --config podgate.yaml
       podgate demo [--port N] [--rate N] [--fleet N]

  --config FILE   run with this config (see docs/config.md)
  demo            run a demo on loopback: a lab DNS server, three services of pods, and
                  podgate in front
  --port N        demo only: where podgate listens (default 8080)
  --rate N        demo only: background requests per second to image-lobby (reports get a
                  tenth of that, search a quarter) for an hour, while the lab rolls, crashes
                  and drains pods a minute apart, for the dashboard to show (default 20;
                  0 = no traffic, pods left alone)
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
  /** Where podgate is about to listen, to name the one that fails. */
  const places: ListenPlace[] = [];
  const configPath = command.kind === 'serve' ? command.configPath : undefined;
  const onTokenCreated = (url: string): void => {
    process.stdout.write(
      `\nadmin API and dashboard: ${url}\n(an operator token was generated and stored in the state directory; it is shown only this once)\n\n`,
    );
  };
  try {
    if (command.kind === 'serve') {
      const config = await loadConfigFile(command.configPath);
      places.push(
        { ...config.listen, what: 'listen, the proxy', fix: `set listen in ${command.configPath} to a free address, or stop that process` },
        {
          ...config.admin.listen,
          what: 'admin.listen, the admin API',
          fix: `set admin.listen in ${command.configPath} to a free address, or stop that process`,
        },
      );
      podgate = await Podgate.start(config, { onTokenCreated });
    } else {
      const { rate } = command;
      // The lab (simulated pods and DNS) is loaded only here: serving a config never needs it.
      const { startDemo } = await import('./demo.js');
      demo = await startDemo(command.port, { fleet: command.fleet });
      for (const config of demo.configs) {
        places.push(
          { ...config.listen, what: "the demo's proxy", fix: 'stop that process (another podgate demo?), or give --port N' },
          {
            ...config.admin.listen,
            what: "the demo's admin API",
            fix: 'stop that process (another podgate demo?): the demo serves its admin API on 127.0.0.1:9901 and up',
          },
        );
      }
      const [first, ...rest] = demo.configs as [PodgateConfig, ...PodgateConfig[]];
      podgate = await Podgate.start(first, { onTokenCreated });
      for (const config of rest) others.push(await Podgate.start(config));
      const port = podgate.port;
      const control = podgate.control;
      if (rate > 0) {
        demo.startTraffic(`http://127.0.0.1:${port}`, {
          ratePerSecond: rate,
          operate: (service, address, action) => control.peerAction(service, address, action, 'demo'),
        });
      }
      if (demo.token !== null) {
        const token = demo.token;
        const lines = [podgate, ...others].map((p) => `  proxy 127.0.0.1:${p.port}   dashboard http://${p.adminAddress}/#token=${token}`);
        process.stdout.write(
          `\npodgate demo fleet: ${lines.length} instances acting as one through a redis-server of the demo's own (operator token "${token}", kept in no file):\n\n${lines.join('\n')}\n\nDrain a pod in one dashboard and watch the others; the background traffic goes through the first.\n`,
        );
      }
      process.stdout.write(
        `\npodgate demo: three services of lab pods behind podgate on 127.0.0.1:${port}. Try:\n\n` +
          `  curl -s -X POST --data-binary 'an image' http://127.0.0.1:${port}/recognize\n\n` +
          `Each answer names the pod that served it (image-lobby's; /slow/3000 goes to reports, /echo to search).` +
          (rate > 0
            ? ` For the next hour, ${rate} requests a second flow in the background and, a minute apart, the lab rolls image-lobby` +
              ` (gracefully, with a pod that crashes, with a node lost), drains and rolls reports (whose answers take 3 s), and fails` +
              ` search's DNS name or crashes one of its pods: open the dashboard above to watch.`
            : ' No background traffic (--rate 0): the pods stay as they are.') +
          ` Ctrl-C stops the demo.\n\n`,
      );
    }
  } catch (err) {
    const listen = listenFailure(err, places);
    if (listen !== null) process.stderr.write(`podgate: cannot start: ${listen}\n`);
    else if (isConfigError(err)) {
      process.stderr.write(`podgate: invalid config${err.source === undefined ? '' : ` ${err.source}`}:\n${err.message}\n`);
      return 2;
    } else {
      const e = err as { code?: string; message?: string };
      process.stderr.write(`podgate: cannot start: ${e.code === undefined ? '' : `${e.code}: `}${e.message ?? String(err)}\n`);
    }
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
  await stopSignal();
  podgate.logger.info('stopping: no new connections, finishing in-flight requests');
  demo?.stopTraffic();
  await Promise.all([podgate, ...others].map((p) => p.close(GRACE_MS)));
  await demo?.close();
  return 0;
}

/**
 * Resolves at the first SIGINT or SIGTERM. Ctrl-C in a terminal signals the whole foreground
 * process group, and `pnpm start` then relays the same SIGINT to its script (pnpm/pnpm#7374): with
 * a one-shot handler node takes that second one as fatal, dies by the signal mid-shutdown, and pnpm
 * prints `ELIFECYCLE Command failed` for a stop that was under way. So the handlers stay: a repeat
 * within RELAYED_SIGNAL_MS is that relay and is ignored; a later one (a second Ctrl-C) stops at once.
 */
function stopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    let firstAt: number | null = null;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (firstAt === null) {
        firstAt = Date.now();
        resolve();
      } else if (Date.now() - firstAt >= RELAYED_SIGNAL_MS) {
        process.stderr.write(`podgate: ${signal} again: stopping at once, in-flight requests cut\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`podgate: ${String(err)}\n`);
    process.exit(1);
  },
);
