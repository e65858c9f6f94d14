import type { Peer } from '@podgate/balancer';
import type { PeerEvent, PodgateConfig, ServiceConfig } from '@podgate/protocol';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import type { Pool } from 'undici';
import { rawClientError, sendClientError, type ClientErrorCode } from './client-error.js';
import type { ProxyContext } from './proxy-context.js';
import { ProxyRequest } from './proxy-request.js';
import { hasBody, readBody, RequestBody } from './request-body.js';
import { Router } from './router.js';
import { ServiceRuntime, type DataPlaneNotice } from './service-runtime.js';
import type { PeerSync, WorkerInspection, WorkerStats } from './control/messages.js';

export interface ProxyServerOptions {
  config: PodgateConfig;
  logger?: Logger;
  onPeerEvent?: (event: PeerEvent) => void;
  /** Things worth an event in the primary's log (rescues). */
  onNotice?: (notice: DataPlaneNotice) => void;
}

// Stalled and late tries are looked for this often: the floor of how fast a dead pod is noticed.
const SWEEP_MS = 25;
// node:http builds req.headers from the first 1000 header fields (its parser's maxHeaderPairs is
// 2000 names and values while server.maxHeadersCount is unset) and silently drops the rest;
// req.rawHeaders then holds more than 2000 entries.
const MAX_HEADER_FIELDS = 1000;
// node checks header and request timeouts every 30 s by default, so a 10 s header timeout could
// take 40 s to fire: check four times per header timeout, at least once a second.
const MAX_TIMEOUT_CHECK_MS = 1000;

/**
 * The data plane: a node:http server that routes each request to a service by Host and path
 * prefix and forwards it through that service's peers. Peer sets come from outside (discovery in
 * the same process today, messages from the primary with several workers).
 */
export class ProxyServer implements ProxyContext {
  readonly logger: Logger;
  private readonly config: PodgateConfig;
  private readonly services = new Map<string, ServiceRuntime>();
  private router = new Router<ServiceRuntime>([]);
  private readonly server: Server;
  private readonly onPeerEvent: (event: PeerEvent) => void;
  private readonly idPrefix = randomBytes(4).toString('hex');
  private nextId = 0;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly onNotice: (notice: DataPlaneNotice) => void;
  /** Connections whose last response says close: requests pipelined after it are not processed. */
  private readonly closing = new WeakSet<Socket>();

  constructor(options: ProxyServerOptions) {
    this.config = options.config;
    this.logger = options.logger ?? pino({ level: options.config.log.level });
    this.onPeerEvent = options.onPeerEvent ?? (() => undefined);
    this.onNotice = options.onNotice ?? (() => undefined);
    const client = options.config.client;
    this.server = createServer(
      {
        maxHeaderSize: client.maxHeaderBytes,
        headersTimeout: client.headerTimeoutMs,
        requestTimeout: client.requestTimeoutMs,
        keepAliveTimeout: client.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_MS, Math.max(1, Math.floor(client.headerTimeoutMs / 4))),
        // RFC 9112 §3.2: a request without Host (HTTP/1.1) is answered 400.
        requireHostHeader: true,
        noDelay: true,
      },
      this.onRequest,
    );
    this.server.on('checkContinue', this.onCheckContinue);
    this.server.on('clientError', this.onClientError);
    this.server.on('upgrade', this.onUpgrade);
    for (const service of options.config.services) this.addService(service);
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      for (const s of this.services.values()) s.sweep(now);
    }, SWEEP_MS);
    this.sweepTimer.unref();
  }

  listen(): Promise<AddressInfo> {
    const { host, port } = this.config.listen;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  get address(): AddressInfo | null {
    return this.server.address() as AddressInfo | null;
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

  /** A service's peers (`ip:port`) and the non-active states the primary decided. */
  setPeers(service: string, addresses: readonly string[], states: readonly PeerSync[]): void {
    this.services.get(service)?.setPeers(addresses, states, Date.now());
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
    return { worker, at: Date.now(), services: [...this.services.values()].map((s) => s.stats()) };
  }

  /** Stops accepting, lets in-flight requests end (up to `graceMs`), then closes pools. */
  async close(graceMs = 10_000): Promise<void> {
    clearInterval(this.sweepTimer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Keep-alive connections go idle as their last response ends; close each one as it does.
    const idle = setInterval(() => this.server.closeIdleConnections(), 50);
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearInterval(idle);
    clearTimeout(timer);
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

  private rebuildRouter(): void {
    const routes = [];
    for (const s of this.services.values()) for (const route of s.config.routes) routes.push({ route, target: s });
    this.router = new Router(routes);
  }

  private requestId(): string {
    return `${this.idPrefix}-${(this.nextId++).toString(36)}`;
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => this.accept(req, res, false);

  /** Expect: 100-continue — refuse an oversized body before the client sends it. */
  private readonly onCheckContinue = (req: IncomingMessage, res: ServerResponse): void => this.accept(req, res, true);

  private accept(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const start = Date.now();
    const socket = req.socket;
    // RFC 9112 §9.6: after a response with "close" (ours, or one the client asked for) the server
    // must not process further requests on the connection; node has parsed pipelined ones already.
    // Left unanswered, they die with the connection node closes after that response.
    if (this.closing.has(socket) || !socket.writable) return;
    if (!res.shouldKeepAlive) this.closing.add(socket);
    const id = this.requestId();
    const url = req.url as string;
    if (req.rawHeaders.length > 2 * MAX_HEADER_FIELDS) {
      // node dropped fields past the limit from req.headers (maybe Content-Length, Connection or a
      // second Host): what is left is not the request the client sent.
      this.refuse(req, res, 'PODGATE_HEADER_TOO_LARGE', `request has more than ${MAX_HEADER_FIELDS} header fields`, id);
      return;
    }
    const problem = requestProblem(req, url);
    if (problem !== null) {
      this.refuse(req, res, 'PODGATE_BAD_REQUEST', problem, id);
      return;
    }
    const service = this.router.match(req.headers.host, url);
    if (service === null) {
      sendClientError(res, 'PODGATE_NO_ROUTE', `no route for host ${JSON.stringify(req.headers.host ?? '')} and path ${url.split('?')[0]}`, id);
      return;
    }
    if (!hasBody(req)) {
      // Most requests: nothing to read first (and no callback to make for it).
      new ProxyRequest(this, service, req, res, id, start, RequestBody.NONE).run();
      return;
    }
    const limits = service.config.body;
    // RFC 9110 §10.1.1: no 100 for a body over the max; readBody answers 413 from Content-Length.
    if (expectsContinue && !(Number(req.headers['content-length'] ?? 0) > limits.maxBytes)) res.writeContinue();
    readBody(req, limits.bufferBytes, limits.maxBytes, (err, body) => {
      if (err !== null) {
        if ((err as { code?: string }).code === 'PODGATE_BODY_TOO_LARGE') {
          this.refuse(req, res, 'PODGATE_BODY_TOO_LARGE', err.message, id, service.name);
        } else {
          res.destroy();
        }
        return;
      }
      new ProxyRequest(this, service, req, res, id, start, body).run();
    });
  }

  /** A 4xx that closes the connection, after which nothing more is read from it as a request. */
  private refuse(req: IncomingMessage, res: ServerResponse, code: ClientErrorCode, message: string, id: string, service?: string): void {
    this.closing.add(req.socket);
    sendClientError(res, code, message, id, { service, close: true });
  }

  /** Malformed requests, oversized headers and slow clients: a 4xx with a JSON body, then close. */
  private readonly onClientError = (err: Error & { code?: string }, socket: Socket): void => {
    if (!socket.writable || (err.code === 'ECONNRESET' && socket.bytesWritten === 0 && !socket.readable)) {
      socket.destroy();
      return;
    }
    if (owesEarlierResponse(socket)) {
      // RFC 9112 §9.6: bytes after a request that said close are not a request. Its answer still
      // goes out, then node closes the connection; for any other error the connection is cut.
      if (err.code !== 'HPE_CLOSED_CONNECTION') socket.destroy();
      return;
    }
    const id = this.requestId();
    let reply: string;
    if (err.code === 'HPE_HEADER_OVERFLOW') reply = rawClientError('PODGATE_HEADER_TOO_LARGE', 'request header block is too large', id);
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT')
      reply = rawClientError('PODGATE_REQUEST_TIMEOUT', 'client took too long to send the request', id);
    else reply = rawClientError('PODGATE_BAD_REQUEST', `malformed request (${err.code ?? 'parse error'})`, id);
    this.logger.debug({ req: id, code: err.code }, 'client error');
    socket.end(reply);
    socket.destroySoon();
  };

  private readonly onUpgrade = (_req: IncomingMessage, socket: Socket): void => {
    if (owesEarlierResponse(socket)) {
      socket.destroy();
      return;
    }
    socket.end(rawClientError('PODGATE_UPGRADE_UNSUPPORTED', 'protocol upgrades (WebSocket) are not proxied yet', this.requestId()));
  };
}

/**
 * A pipelined request before the failed one is still being answered (or its answer has started):
 * a 4xx written now would be read as that request's response, so the connection is cut instead.
 * node's own clientError default checks the same `_httpMessage` (lib/_http_server.js).
 */
function owesEarlierResponse(socket: Socket): boolean {
  const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  return pending != null && (pending.headersSent || pending.req.complete);
}

/** Why a request node parsed is still unsafe to route and forward, in one line; null if none. */
function requestProblem(req: IncomingMessage, url: string): string | null {
  // node's parser also takes "HTTP/2.0" request lines and HTTP/0.9 "GET /" (no version, no headers).
  if (req.httpVersionMajor !== 1) return 'only HTTP/1.0 and HTTP/1.1 requests are accepted';
  // Absolute-form and asterisk-form targets are how requests get smuggled past routing.
  if (url.charCodeAt(0) !== 47 /* '/' */) return 'request target must be a path';
  // RFC 9112 §3.2.1: origin-form is absolute-path ["?" query], no fragment.
  if (url.includes('#')) return 'request target must not contain a fragment';
  const http10 = req.httpVersionMinor === 0;
  // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing (a 1.0 hop in front
  // framed it otherwise); nginx answers it 400 too.
  if (http10 && req.headers['transfer-encoding'] !== undefined) return 'HTTP/1.0 requests must not use Transfer-Encoding';
  return hostProblem(req.rawHeaders, http10);
}

/**
 * RFC 9110 §7.2: 400 for a request with more than one Host or an invalid one. HTTP/1.0 may omit
 * Host, but routing is by Host and the request goes upstream as HTTP/1.1 (RFC 9112 §3.2), where
 * undici would invent the pod's address.
 */
function hostProblem(raw: readonly string[], http10: boolean): string | null {
  let host: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (host !== null) return 'Host must appear once';
      host = raw[i + 1] as string;
    }
  }
  if (host === null) return http10 ? 'Host is required' : null;
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
      c === 45 || c === 46 || c === 95 || c === 126 || // - . _ ~
      c === 91 || c === 93 || c === 37 || // [ ] %
      c === 33 || c === 36 || (c >= 38 && c <= 44) || c === 59 || c === 61; // sub-delims ! $ & ' ( ) * + , ; =
    if (!ok) return false;
  }
  return true;
}
