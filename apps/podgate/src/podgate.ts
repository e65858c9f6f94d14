import type { PodgateConfig } from '@podgate/protocol';
import {
  ControlPlane,
  LIVE_FEED_PATH,
  LiveFeed,
  loadTokens,
  PodgateMetrics,
  startAdminServer,
  startInProcessDataPlane,
  StateStore,
  TokenAuth,
  parseService,
} from '@podgate/control';
import type { DataPlaneAgent, ProxyServer, WorkerInspection } from '@podgate/proxy';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { adminListenIssue, ConfigError } from '@podgate/config';
import { WorkerPool } from './worker-pool.js';

export interface PodgateOptions {
  logger?: Logger;
  /** Told once when podgate generated the operator token: the dashboard URL with it. */
  onTokenCreated?: (url: string) => void;
  /** The built dashboard to serve at the admin address; default apps/dashboard/dist when it exists. */
  dashboardDir?: string | null;
}

/** This build's version, from the daemon's package.json (apps/podgate/{src,dist}/ → apps/podgate/). */
const PODGATE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function defaultDashboardDir(): string | null {
  // apps/podgate/{src,dist}/podgate.* → apps/dashboard/dist
  const dir = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

/**
 * The daemon: the control plane in this (primary) process, the data plane either here too
 * (`workers: 1`) or in worker processes sharing the proxy port. The same messages either way.
 */
export class Podgate {
  readonly control: ControlPlane;
  readonly logger: Logger;
  /** The in-process data plane (`workers: 1`); null with worker processes. */
  readonly proxy: ProxyServer | null;
  private readonly agent: DataPlaneAgent | null;
  private readonly pool: WorkerPool | null;
  private readonly admin: { address: string; close(): Promise<void> };
  private readonly feed: LiveFeed;
  private readonly metrics: PodgateMetrics;
  private config: PodgateConfig;

  private constructor(parts: {
    config: PodgateConfig;
    control: ControlPlane;
    logger: Logger;
    proxy: ProxyServer | null;
    agent: DataPlaneAgent | null;
    pool: WorkerPool | null;
    admin: { address: string; close(): Promise<void> };
    feed: LiveFeed;
    metrics: PodgateMetrics;
  }) {
    this.config = parts.config;
    this.control = parts.control;
    this.logger = parts.logger;
    this.proxy = parts.proxy;
    this.agent = parts.agent;
    this.pool = parts.pool;
    this.admin = parts.admin;
    this.feed = parts.feed;
    this.metrics = parts.metrics;
  }

  /**
   * `config` as the config loader resolves it (with its `defaults:`, which services added through
   * the API get too); a config built in code without them gives those services the built-in ones.
   */
  static async start(config: PodgateConfig, options: PodgateOptions = {}): Promise<Podgate> {
    // The config loader refuses this already; a config built in code gets the same answer, before
    // anything listens or a token is generated and printed.
    const insecure = adminListenIssue(config.admin, process.env);
    if (insecure !== null) throw new ConfigError([insecure]);
    const logger = options.logger ?? pino({ level: config.log.level });
    const stateDir = resolve(config.stateDir);
    const store = await StateStore.open(stateDir);
    const control = await ControlPlane.start({ config, parseService, store, logger });
    const metrics = new PodgateMetrics(control);
    let proxy: ProxyServer | null = null;
    let agent: DataPlaneAgent | null = null;
    let pool: WorkerPool | null = null;
    if (config.workers === 1) {
      ({ proxy, agent } = startInProcessDataPlane(control, config, logger));
      await proxy.listen();
    } else {
      pool = new WorkerPool(control, config, logger);
      await pool.start(config.workers);
    }
    const { tokens, created } = await loadTokens(config.admin.tokens, process.env, stateDir);
    const auth = new TokenAuth(tokens);
    const feed = new LiveFeed({
      control,
      authenticate: (req) => auth.authenticateUpgrade(req, LIVE_FEED_PATH),
      allowedOrigins: config.admin.allowedOrigins,
      adminHost: config.admin.listen.host,
      maxConnections: config.admin.feed.maxConnections,
      maxConnectionsPerToken: config.admin.feed.maxConnectionsPerToken,
    });
    const admin = await startAdminServer({
      control,
      auth,
      host: config.admin.listen.host,
      port: config.admin.listen.port,
      metrics,
      dashboardDir: (options.dashboardDir === undefined ? defaultDashboardDir() : options.dashboardDir) ?? undefined,
      registerFeed: (app) => app.server.on('upgrade', (req, socket, head) => feed.handleUpgrade(req, socket, head)),
      logger,
    });
    const podgate = new Podgate({ config, control, logger, proxy, agent, pool, admin, feed, metrics });
    // Named by its host and proxy port: the same name after a restart, distinct for instances sharing a host.
    const proxyAddress = `${config.listen.host}:${podgate.port}`;
    control.joinFleet({ id: `${hostname()}:${podgate.port}`, proxy: proxyAddress, admin: admin.address, version: PODGATE_VERSION, startedAt: Date.now() });
    logger.info({ listen: `${config.listen.host}:${podgate.port}`, admin: admin.address, workers: config.workers }, 'podgate is serving');
    if (created !== null) options.onTokenCreated?.(`http://${admin.address}/#token=${created.token}`);
    return podgate;
  }

  /** The proxy port (the one chosen when the config says 0). */
  get port(): number {
    return this.proxy?.address?.port ?? this.pool?.port ?? 0;
  }

  get adminAddress(): string {
    return this.admin.address;
  }

  /** Every data plane's replica of the peer tables. */
  async inspectWorkers(): Promise<WorkerInspection[]> {
    if (this.pool !== null) return this.pool.inspect();
    return this.proxy === null ? [] : [this.proxy.inspect()];
  }

  /**
   * SIGHUP: a new config from the file; keys that need a restart are reported and left as they are.
   * Services added through the API are resolved again against the new `defaults:`. Throws, having
   * changed nothing, when the new config makes one of them invalid.
   */
  reload(config: PodgateConfig): string[] {
    const ignored: string[] = [];
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    if (!same(config.listen, this.config.listen)) ignored.push('listen');
    if (config.workers !== this.config.workers) ignored.push('workers');
    if (!same(config.admin, this.config.admin)) ignored.push('admin');
    if (config.stateDir !== this.config.stateDir) ignored.push('stateDir');
    if (!same(config.dns, this.config.dns)) ignored.push('dns');
    this.control.reload({
      ...config,
      listen: this.config.listen,
      workers: this.config.workers,
      admin: this.config.admin,
      stateDir: this.config.stateDir,
      dns: this.config.dns,
    });
    this.pool?.setConfig(config);
    this.config = config;
    return ignored;
  }

  /** SIGTERM: stop accepting, let in-flight requests finish up to `graceMs`, then stop. */
  async close(graceMs = 10_000): Promise<void> {
    if (this.proxy !== null) await this.proxy.close(graceMs);
    this.agent?.close();
    await this.pool?.stop(graceMs);
    await this.feed.close();
    await this.admin.close();
    this.metrics.close();
    await this.control.close();
  }
}
