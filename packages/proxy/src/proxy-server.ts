import type { Peer } from '@podgate/balancer';
import type { PeerEvent, PodgateConfig, ServiceConfig } from '@podgate/protocol';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import type { Pool } from 'undici';
import { rawClientError, sendClientError } from './client-error.js';
import type { ProxyContext } from './proxy-context.js';
import { ProxyRequest } from './proxy-request.js';
import { readBody } from './request-body.js';
import { Router } from './router.js';
import { ServiceRuntime } from './service-runtime.js';

export interface ProxyServerOptions {
  config: PodgateConfig;
  logger?: Logger;
  onPeerEvent?: (event: PeerEvent) => void;
}

// Automatic ejection returns are checked this often so they show up live, not only at the next pick.
const EXPIRY_TICK_MS = 250;

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
  private readonly expiryTimer: NodeJS.Timeout;

  constructor(options: ProxyServerOptions) {
    this.config = options.config;
    this.logger = options.logger ?? pino({ level: options.config.log.level });
    this.onPeerEvent = options.onPeerEvent ?? (() => undefined);
    const client = options.config.client;
    this.server = createServer(
      {
        maxHeaderSize: client.maxHeaderBytes,
        headersTimeout: client.headerTimeoutMs,
        requestTimeout: client.requestTimeoutMs,
        keepAliveTimeout: client.keepAliveTimeoutMs,
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
    this.expiryTimer = setInterval(() => {
      const now = Date.now();
      for (const s of this.services.values()) if (s.table.nextReturnAt <= now) s.table.expireEjections(now);
    }, EXPIRY_TICK_MS);
    this.expiryTimer.unref();
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
    const runtime = new ServiceRuntime(config, this.onPeerEvent);
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

  /** Stops accepting, lets in-flight requests end (up to `graceMs`), then closes pools. */
  async close(graceMs = 10_000): Promise<void> {
    clearInterval(this.expiryTimer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    await Promise.all([...this.services.values()].map((s) => s.close(Date.now())));
  }

  accessLog(request: ProxyRequest, status: number, durationMs: number, tried: readonly Peer<Pool>[]): void {
    if (!this.config.log.access || !this.logger.isLevelEnabled('info')) return;
    this.logger.info({
      req: request.id,
      service: request.service.name,
      status,
      ms: durationMs,
      tries: tried.length,
      peers: tried.map((p) => p.address).join(','),
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

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const start = Date.now();
    const id = this.requestId();
    const url = req.url as string;
    if (url.charCodeAt(0) !== 47 /* '/' */ || hasDuplicateHost(req.rawHeaders)) {
      // Absolute-form targets and repeated Host headers are how requests get smuggled past routing.
      sendClientError(res, 'PODGATE_BAD_REQUEST', 'request target must be a path and Host must appear once', id, { close: true });
      return;
    }
    const service = this.router.match(req.headers.host, url);
    if (service === null) {
      sendClientError(res, 'PODGATE_NO_ROUTE', `no route for host ${JSON.stringify(req.headers.host ?? '')} and path ${url.split('?')[0]}`, id);
      return;
    }
    const limits = service.config.body;
    readBody(req, limits.bufferBytes, limits.maxBytes, (err, body) => {
      if (err !== null) {
        if ((err as { code?: string }).code === 'PODGATE_BODY_TOO_LARGE') {
          sendClientError(res, 'PODGATE_BODY_TOO_LARGE', err.message, id, { service: service.name, close: true });
        } else {
          res.destroy();
        }
        return;
      }
      new ProxyRequest(this, service, req, res, id, start, body).run();
    });
  };

  /** Expect: 100-continue — refuse an oversized body before the client sends it. */
  private readonly onCheckContinue = (req: IncomingMessage, res: ServerResponse): void => {
    const service = this.router.match(req.headers.host, req.url as string);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (service !== null && declared > service.config.body.maxBytes) {
      sendClientError(res, 'PODGATE_BODY_TOO_LARGE', `request body is larger than ${service.config.body.maxBytes} bytes`, this.requestId(), {
        service: service.name,
        close: true,
      });
      return;
    }
    res.writeContinue();
    this.onRequest(req, res);
  };

  /** Malformed requests, oversized headers and slow clients: a 4xx with a JSON body, then close. */
  private readonly onClientError = (err: Error & { code?: string }, socket: Socket): void => {
    if (!socket.writable || (err.code === 'ECONNRESET' && socket.bytesWritten === 0 && !socket.readable)) {
      socket.destroy();
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
    socket.end(rawClientError('PODGATE_UPGRADE_UNSUPPORTED', 'protocol upgrades (WebSocket) are not proxied yet', this.requestId()));
  };
}

function hasDuplicateHost(raw: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (seen) return true;
      seen = true;
    }
  }
  return false;
}
