import type { Peer } from '@podgate/balancer';
import type { PeerEvent, PodgateConfig, ServiceConfig } from '@podgate/protocol';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { Pool } from 'undici';
import { sendClientError, type ClientErrorCode } from './client-error.js';
import type { ClientExchange } from './front/client-exchange.js';
import type { Front, FrontKind, FrontOptions } from './front/front.js';
import { chooseFront } from './front/front-choice.js';
import { HttpFront } from './front/http-front.js';
import { NodeHttpFront } from './front/node-http-front.js';
import type { HttpCommon } from './front/node-parser.js';
import type { ProxyContext } from './proxy-context.js';
import { ProxyRequest } from './proxy-request.js';
import { hasBody, readBody, RequestBody } from './request-body.js';
import { Router } from './router.js';
import { ServiceRuntime, type DataPlaneNotice } from './service-runtime.js';
import type { PeerSync, WorkerInspection, WorkerStats } from './messages.js';

export interface ProxyServerOptions {
  config: PodgateConfig;
  logger?: Logger;
  onPeerEvent?: (event: PeerEvent) => void;
  /** Things worth an event in the primary's log (rescues). */
  onNotice?: (notice: DataPlaneNotice) => void;
  /** A stand-in for node's `_http_common`, for the parser self-test to check (tests). */
  httpCommon?: HttpCommon | null;
}

// Stalled and late tries are looked for this often: the floor of how fast a dead pod is noticed.
const SWEEP_MS = 25;
// node:http keeps 1000 header fields of a request (and dropped the rest silently); podgate keeps
// the same limit and answers 431 past it.
const MAX_HEADER_FIELDS = 1000;

/**
 * The data plane: an HTTP/1.1 server (a front: front/front.ts) that routes each request to a service by Host and path
 * prefix and forwards it through that service's peers. Peer sets come from outside (discovery in
 * the same process today, messages from the primary with several workers).
 */
export class ProxyServer implements ProxyContext {
  readonly logger: Logger;
  private readonly config: PodgateConfig;
  private readonly services = new Map<string, ServiceRuntime>();
  private router = new Router<ServiceRuntime>([]);
  /** Chosen as the server starts listening (`front:` and the parser self-test). */
  private front: Front | null = null;
  private readonly frontOptions: FrontOptions;
  private readonly httpCommon: HttpCommon | null | undefined;
  private readonly onPeerEvent: (event: PeerEvent) => void;
  private readonly idPrefix = randomBytes(4).toString('hex');
  private nextId = 0;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly onNotice: (notice: DataPlaneNotice) => void;

  constructor(options: ProxyServerOptions) {
    this.config = options.config;
    this.logger = options.logger ?? pino({ level: options.config.log.level });
    this.onPeerEvent = options.onPeerEvent ?? (() => undefined);
    this.onNotice = options.onNotice ?? (() => undefined);
    const client = options.config.client;
    this.frontOptions = {
      maxHeaderBytes: client.maxHeaderBytes,
      headerTimeoutMs: client.headerTimeoutMs,
      requestTimeoutMs: client.requestTimeoutMs,
      keepAliveTimeoutMs: client.keepAliveTimeoutMs,
      onExchange: this.accept,
      requestId: () => this.requestId(),
      onParseError: (code, id) => this.logger.debug({ req: id, code }, 'client error'),
    };
    this.httpCommon = options.httpCommon;
    for (const service of options.config.services) this.addService(service);
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      for (const s of this.services.values()) s.sweep(now);
    }, SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** Chooses the front (docs/http-front.md, "Which front serves") and listens. */
  async listen(): Promise<AddressInfo> {
    this.front ??= await this.startFront();
    return this.front.listen(this.config.listen.host, this.config.listen.port);
  }

  get address(): AddressInfo | null {
    return this.front?.address ?? null;
  }

  /** The front serving clients: null until listen(). */
  get frontKind(): FrontKind | null {
    return this.front?.kind ?? null;
  }

  service(name: string): ServiceRuntime | undefined {
    return this.services.get(name);
  }

  listServices(): ServiceRuntime[] {
    return [...this.services.values()];
  }

  addService(config: ServiceConfig): ServiceRuntime {
    if (this.services.has(config.name)) throw new Error(`service ${config.name} already exists`);
    const runtime = new ServiceRuntime(config, this.onPeerEvent, this.onNotice);
    this.services.set(config.name, runtime);
    this.rebuildRouter();
    return runtime;
  }

  async removeService(name: string): Promise<void> {
    const runtime = this.services.get(name);
    if (runtime === undefined) return;
    this.services.delete(name);
    this.rebuildRouter();
    await runtime.close(Date.now());
  }

  /** A DNS answer for a service: its pod IPs. */
  setAddresses(service: string, ips: readonly string[]): void {
    this.services.get(service)?.setAddresses(ips, Date.now());
  }

  /**
   * Makes the set of services match `configs`: adds new ones, removes missing ones and replaces
   * those whose config changed (their peers come back with the next `peers` message).
   */
  async applyServices(configs: readonly ServiceConfig[]): Promise<void> {
    const wanted = new Map(configs.map((c) => [c.name, c]));
    for (const [name, runtime] of this.services) {
      const next = wanted.get(name);
      if (next === undefined || JSON.stringify(next) !== JSON.stringify(runtime.config)) await this.removeService(name);
    }
    for (const config of configs) if (!this.services.has(config.name)) this.addService(config);
  }

  /** A service's peers (`ip:port`) and the non-active states the primary decided; `reason`: why there are none. */
  setPeers(service: string, addresses: readonly string[], states: readonly PeerSync[], reason?: string | null): void {
    this.services.get(service)?.setPeers(addresses, states, Date.now(), reason);
  }

  /** One peer's state as the primary decided it. */
  syncPeer(service: string, peer: PeerSync): void {
    this.services.get(service)?.table.sync(peer.address, peer.state, peer.reason, peer.until, peer.hold, Date.now());
  }

  /** This process's replica of the peer tables. */
  inspect(): WorkerInspection {
    return {
      services: [...this.services.values()].map((s) => ({
        name: s.name,
        peers: s.table.list().map((p) => ({ address: p.address, state: p.state, reason: p.reason, until: p.ejectedUntil, hold: p.hold })),
      })),
    };
  }

  /** Cumulative counters of every service, for the primary. */
  stats(worker: number): WorkerStats {
    return { worker, at: Date.now(), front: this.front?.kind, services: [...this.services.values()].map((s) => s.stats()) };
  }

  /** Stops accepting, lets in-flight requests end (up to `graceMs`), then closes pools. */
  async close(graceMs = 10_000): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.front?.close(graceMs);
    await Promise.all([...this.services.values()].map((s) => s.close(Date.now())));
  }

  accessLog(request: ProxyRequest, status: number, durationMs: number, tried: readonly Peer<Pool>[]): void {
    if (!this.config.log.access || !this.logger.isLevelEnabled('info')) return;
    let peers = '';
    for (let i = 0; i < tried.length; i++) peers += (i === 0 ? '' : ',') + (tried[i] as Peer<Pool>).address;
    this.logger.info({
      req: request.id,
      service: request.service.name,
      method: request.method,
      path: request.path,
      client: request.client,
      status,
      ms: durationMs,
      tries: tried.length,
      retries: tried.length === 0 ? 0 : tried.length - 1,
      peers,
    });
  }

  private async startFront(): Promise<Front> {
    const start = performance.now();
    const { kind, problem } = await chooseFront(this.config.front, this.httpCommon);
    const ms = Math.round((performance.now() - start) * 10) / 10;
    if (problem !== null) {
      this.logger.warn({ front: kind, selfTest: problem }, `node's HTTP parser failed podgate's self-test (${problem}): serving with the node:http front`);
    } else {
      this.logger.debug({ front: kind, selfTestMs: ms }, `serving with the ${kind} front`);
    }
    return kind === 'native' ? new HttpFront(this.frontOptions) : new NodeHttpFront(this.frontOptions);
  }

  private rebuildRouter(): void {
    const routes = [];
    for (const s of this.services.values()) for (const route of s.config.routes) routes.push({ route, target: s });
    this.router = new Router(routes);
  }

  private requestId(): string {
    return `${this.idPrefix}-${(this.nextId++).toString(36)}`;
  }

  /** Each request once the ones before it on its connection were answered. */
  private readonly accept = (ex: ClientExchange): void => {
    const start = Date.now();
    const id = this.requestId();
    if (ex.upgrade) {
      this.refuse(
        ex,
        'PODGATE_UPGRADE_UNSUPPORTED',
        ex.method === 'CONNECT' ? 'CONNECT is not proxied' : 'protocol upgrades (WebSocket) are not proxied yet',
        id,
      );
      return;
    }
    if (ex.rawHeaders.length > 2 * MAX_HEADER_FIELDS) {
      this.refuse(ex, 'PODGATE_HEADER_TOO_LARGE', `request has more than ${MAX_HEADER_FIELDS} header fields`, id);
      return;
    }
    const problem = requestProblem(ex);
    if (problem !== null) {
      this.refuse(ex, 'PODGATE_BAD_REQUEST', problem, id);
      return;
    }
    const url = ex.url;
    const service = this.router.match(ex.host, url);
    if (service === null) {
      sendClientError(ex, 'PODGATE_NO_ROUTE', `no route for host ${JSON.stringify(ex.host ?? '')} and path ${url.split('?')[0]}`, id);
      return;
    }
    // RFC 9110 §10.1.1: 417 for an expectation podgate does not know.
    const expect = ex.expect;
    if (expect !== undefined && expect.toLowerCase() !== '100-continue') {
      this.refuse(ex, 'PODGATE_EXPECTATION_FAILED', `unsupported expectation ${JSON.stringify(expect)}`, id, service.name);
      return;
    }
    if (!hasBody(ex)) {
      // Most requests: nothing to read first (and no callback to make for it).
      new ProxyRequest(this, service, ex, id, start, RequestBody.NONE).run();
      return;
    }
    const limits = service.config.body;
    // No 100 for a body over the max: readBody answers 413 from Content-Length.
    if (expect !== undefined && ex.versionMinor >= 1 && !(Number(ex.contentLength ?? 0) > limits.maxBytes)) ex.writeContinue();
    readBody(ex, limits.bufferBytes, limits.maxBytes, (err, body) => {
      if (err === null) new ProxyRequest(this, service, ex, id, start, body).run();
      else if ((err as { code?: string }).code === 'PODGATE_BODY_TOO_LARGE') this.refuse(ex, 'PODGATE_BODY_TOO_LARGE', err.message, id, service.name);
      // Otherwise the client left or was too slow: its connection answers that, if anything.
    });
  };

  /** A 4xx that closes the connection, after which nothing more is read from it as a request. */
  private refuse(ex: ClientExchange, code: ClientErrorCode, message: string, id: string, service?: string): void {
    sendClientError(ex, code, message, id, { service, close: true });
  }
}

/** Why a request node's parser took is still unsafe to route and forward, in one line; null if none. */
function requestProblem(ex: ClientExchange): string | null {
  const url = ex.url;
  // node's parser also takes "HTTP/2.0" request lines and HTTP/0.9 "GET /" (no version, no headers).
  if (ex.versionMajor !== 1) return 'only HTTP/1.0 and HTTP/1.1 requests are accepted';
  // Absolute-form and asterisk-form targets are how requests get smuggled past routing.
  if (url.charCodeAt(0) !== 47 /* '/' */) return 'request target must be a path';
  // RFC 9112 §3.2.1: origin-form is absolute-path ["?" query], no fragment.
  if (url.includes('#')) return 'request target must not contain a fragment';
  const http10 = ex.versionMinor === 0;
  // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing (a 1.0 hop in front
  // framed it otherwise); nginx answers it 400 too.
  if (http10 && ex.transferEncoding !== undefined) return 'HTTP/1.0 requests must not use Transfer-Encoding';
  return hostProblem(ex);
}

/**
 * RFC 9110 §7.2 and RFC 9112 §3.2: 400 for a request with no Host (HTTP/1.1), more than one, or an
 * invalid one. HTTP/1.0 may omit Host, but routing is by Host and the request goes upstream as
 * HTTP/1.1, where undici would invent the pod's address: podgate requires it of both.
 */
function hostProblem(ex: ClientExchange): string | null {
  if (ex.hostCount > 1) return 'Host must appear once';
  const host = ex.host;
  if (host === undefined) return 'Host is required';
  return isValidHost(host) ? null : `invalid Host ${JSON.stringify(host)}`;
}

/** uri-host [":" port] (RFC 3986 §3.2.2): reg-name, IPv4 or [IP-literal] characters only, may be empty. */
function isValidHost(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) || // a-z
      (c >= 65 && c <= 90) || // A-Z
      (c >= 48 && c <= 58) || // 0-9 and ':'
      c === 45 ||
      c === 46 ||
      c === 95 ||
      c === 126 || // - . _ ~
      c === 91 ||
      c === 93 ||
      c === 37 || // [ ] %
      c === 33 ||
      c === 36 ||
      (c >= 38 && c <= 44) ||
      c === 59 ||
      c === 61; // sub-delims ! $ & ' ( ) * + , ; =
    if (!ok) return false;
  }
  return true;
}
