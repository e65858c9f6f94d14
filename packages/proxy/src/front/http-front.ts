import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ClientConnection } from './client-connection.js';
import type { ClientExchange } from './client-exchange.js';
import { badFramingReply, parseErrorReply, requestTimeoutReply, type Front, type FrontOptions } from './front.js';

// Timers are checked four times per header timeout, at least once a second.
const MAX_CHECK_MS = 1000;

/**
 * podgate's HTTP/1.1 server side: a net.Server whose connections are read by node's own parser
 * (node-parser.ts) and answered by ClientConnection. It does what node:http's server did for the
 * proxy, minus its per-request objects and streams: timeouts for slow clients, keep-alive,
 * pipelining in order, the 4xx answers to malformed requests, and a graceful close.
 */
export class HttpFront implements Front {
  readonly kind = 'native';
  readonly maxHeaderBytes: number;
  /** The lines a response that keeps the connection open carries (what node:http sends). */
  readonly keepAliveLines: string;
  readonly onExchange: (ex: ClientExchange) => void;

  private readonly server: Server;
  private readonly connections = new Set<ClientConnection>();
  private readonly options: FrontOptions;
  private readonly timer: NodeJS.Timeout;
  private dateSecond = 0;
  private dateText = '';
  private closing = false;

  constructor(options: FrontOptions) {
    this.options = options;
    this.maxHeaderBytes = options.maxHeaderBytes;
    this.onExchange = options.onExchange;
    this.keepAliveLines = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}\r\n`;
    this.server = createServer({ noDelay: true }, this.onConnection);
    const every = Math.min(MAX_CHECK_MS, Math.max(1, Math.floor(options.headerTimeoutMs / 4)));
    this.timer = setInterval(() => this.checkTimers(Date.now()), every);
    this.timer.unref();
  }

  listen(host: string, port: number): Promise<AddressInfo> {
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

  /** The Date field value, made once a second (RFC 9110 §6.6.1). */
  date(): string {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateText = new Date(now).toUTCString();
    }
    return this.dateText;
  }

  /** @internal the parser self-test (canned-exchange.ts): a connection over an in-memory stream. */
  adopt(socket: Socket): void {
    this.onConnection(socket);
  }

  /** @internal */
  forget(conn: ClientConnection): void {
    this.connections.delete(conn);
  }

  /** @internal the whole 4xx for a request node's parser refused */
  parseErrorReply(code: string): string {
    return parseErrorReply(this.options, code);
  }

  /** @internal the whole 400 for a request podgate's own framing rules refused */
  badRequestReply(message: string): string {
    return badFramingReply(this.options, message);
  }

  /** @internal */
  requestTimeoutReply(): string {
    return requestTimeoutReply(this.options);
  }

  /**
   * Stops accepting; connections close as their last response ends, and whatever is left after
   * `graceMs` is cut.
   */
  close(graceMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of this.connections) conn.drain();
    const cut = setTimeout(() => {
      for (const conn of this.connections) conn.socket.destroy();
    }, graceMs);
    return closed.finally(() => clearTimeout(cut));
  }

  private readonly onConnection = (socket: Socket): void => {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.add(new ClientConnection(this, socket, Date.now()));
  };

  private checkTimers(now: number): void {
    const o = this.options;
    for (const conn of this.connections) {
      if (conn.socket.destroyed || conn.paused) continue;
      if (conn.messageStart !== 0) {
        const limit = conn.readingHead ? o.headerTimeoutMs : o.requestTimeoutMs;
        if (now - conn.messageStart >= limit) conn.timedOut();
      } else if (conn.idle) {
        // A new connection gets the header timeout for its first byte; after a response, keep-alive's.
        const limit = conn.served === 0 ? o.headerTimeoutMs : o.keepAliveTimeoutMs;
        if (now - conn.idleSince >= limit) conn.socket.destroy();
      }
    }
  }
}
