import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Front, FrontOptions } from './front.js';
import { NodeConnection } from './node-connection.js';
import { NodeExchange } from './node-exchange.js';

// node:http checks header and request timeouts every 30 s by default, so a 10 s header timeout
// could take 40 s to fire: four times per header timeout, at least once a second (as http-front.ts).
const MAX_CHECK_MS = 1000;

/**
 * The fallback front: node:http's server, for a Node whose internal parser podgate's own front
 * cannot trust (parser-self-test.ts). Same rules, same answers, as far as node:http lets podgate
 * decide them (docs/http-front.md lists where it does not): podgate's framing rules and JSON errors,
 * 431, 408, 417, 501 for CONNECT and upgrades, one request answered at a time per connection.
 */
export class NodeHttpFront implements Front {
  readonly kind = 'node';
  readonly options: FrontOptions;

  private readonly server: Server;
  private readonly connections = new Map<Socket, NodeConnection>();
  private closing = false;

  constructor(options: FrontOptions) {
    this.options = options;
    this.server = createServer({
      maxHeaderSize: options.maxHeaderBytes,
      // node:http refuses a header timeout above the request timeout.
      headersTimeout: Math.min(options.headerTimeoutMs, options.requestTimeoutMs),
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(MAX_CHECK_MS, Math.max(1, Math.floor(options.headerTimeoutMs / 4))),
      // podgate's own Host rules answer (proxy-server.ts), with its JSON body; node:http's 400 has none.
      requireHostHeader: false,
      insecureHTTPParser: false,
      noDelay: true,
    });
    // Every field in rawHeaders (node:http keeps about 1000 by default): podgate answers 431 past 1000.
    this.server.maxHeadersCount = 0;
    this.server.on('connection', this.onConnection);
    this.server.on('request', this.onRequest);
    // With listeners, node:http leaves Expect to podgate: no automatic 100, and 417 with its JSON.
    this.server.on('checkContinue', this.onRequest);
    this.server.on('checkExpectation', this.onRequest);
    // Without them, node:http would read an Upgrade request as a plain one, and drop a CONNECT.
    this.server.on('upgrade', this.onUpgrade);
    this.server.on('connect', this.onUpgrade);
    this.server.on('clientError', this.onClientError);
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

  /** @internal */
  forget(socket: Socket): void {
    this.connections.delete(socket);
  }

  close(graceMs: number): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // A response in flight ends with `connection: close`; an idle connection closes now.
    for (const conn of this.connections.values()) conn.drain();
    const cut = setTimeout(() => {
      this.server.closeAllConnections();
      for (const socket of this.connections.keys()) socket.destroy();
    }, graceMs);
    return closed.finally(() => clearTimeout(cut));
  }

  private readonly onConnection = (socket: Socket): void => {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.set(socket, new NodeConnection(this, socket));
  };

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const conn = this.connections.get(req.socket);
    if (conn === undefined) {
      req.socket.destroy();
      return;
    }
    conn.take(new NodeExchange(conn, req, res));
  };

  private readonly onUpgrade = (req: IncomingMessage, socket: Socket): void => {
    const conn = this.connections.get(socket);
    if (conn === undefined) {
      socket.destroy();
      return;
    }
    conn.takeUpgrade(new NodeExchange(conn, req, null));
  };

  private readonly onClientError = (err: Error, socket: Socket): void => {
    const conn = this.connections.get(socket);
    if (conn === undefined) socket.destroy();
    else conn.clientError(err);
  };
}
