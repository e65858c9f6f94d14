import type { IncomingMessage, ServerResponse } from 'node:http';
import { DISCARD_BODY, type BodySink, type ClientExchange, type ExchangeOwner } from './client-exchange.js';
import { asksToClose } from './framing-rules.js';
import type { NodeConnection } from './node-connection.js';
import { declaresBody, readRequestFields, type RequestHead } from './request-head.js';
import { keptResponseFields, type HeadFacts } from './response-head.js';

const facts: HeadFacts = { contentLength: -1, hasDate: false, size: 0 };

/**
 * One request read by node:http's server and the response to it, behind the same interface as the
 * native front's exchange. node:http's IncomingMessage carries the body and its ServerResponse
 * frames the answer (chunked, close-delimited for HTTP/1.0, none for HEAD, 204 and 304). An
 * Upgrade or CONNECT has no ServerResponse (node:http hands the socket over after its head): its
 * answer is written on the socket.
 */
export class NodeExchange implements ClientExchange, RequestHead {
  readonly method: string;
  readonly url: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly rawHeaders: string[];
  readonly upgrade: boolean;
  /** node:http's keep-alive reading, and false when a `close` token is there that llhttp missed. */
  readonly keepAlive: boolean;

  // The fields podgate acts on (request-head.ts).
  host: string | undefined;
  hostCount = 0;
  contentLength: string | undefined;
  transferEncoding: string | undefined;
  connection: string | undefined;
  forwardedFor: string | undefined;
  expect: string | undefined;
  hasRequestId = false;

  receiveError: Error | null = null;
  owner: ExchangeOwner | null = null;
  /** Response bytes were committed. */
  headSent = false;
  finished = false;
  /** The connection closes after this response. */
  closeAfter = false;

  private readonly conn: NodeConnection;
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse | null;
  private sink: BodySink | null = null;
  /** Dropped by its connection (refused while its body was read): it writes nothing more. */
  private abandoned = false;

  constructor(conn: NodeConnection, req: IncomingMessage, res: ServerResponse | null) {
    this.method = req.method ?? '';
    this.url = req.url ?? '';
    this.versionMajor = req.httpVersionMajor;
    this.versionMinor = req.httpVersionMinor;
    this.rawHeaders = req.rawHeaders;
    this.upgrade = res === null;
    readRequestFields(this, req.rawHeaders);
    this.conn = conn;
    this.req = req;
    this.res = res;
    this.keepAlive = res !== null && res.shouldKeepAlive && !asksToClose(this.connection);
    if (res !== null) {
      if (!this.keepAlive) res.shouldKeepAlive = false;
      res.on('finish', this.onFinish);
    }
  }

  get remoteAddress(): string {
    return this.conn.remoteAddress;
  }

  /** The whole request (head and body) was read. */
  get complete(): boolean {
    return this.req.complete;
  }

  // --- the request body, as node:http's IncomingMessage delivers it ---

  setBodySink(sink: BodySink): void {
    const first = this.sink === null;
    this.sink = sink;
    if (!first) return;
    if (this.receiveError !== null) {
      sink.onBodyError(this.receiveError);
      return;
    }
    // Until now the body waited in the IncomingMessage (node:http stops reading past its buffer).
    this.req.on('data', this.onData);
    this.req.on('end', this.onEnd);
    this.req.on('error', this.onError);
  }

  pauseBody(): void {
    this.req.pause();
  }

  resumeBody(): void {
    this.req.resume();
  }

  /** @internal the client left or was too slow before the request ended */
  failBody(err: Error): void {
    if (this.complete || this.receiveError !== null) return;
    this.receiveError = err;
    this.sink?.onBodyError(err);
  }

  /** @internal the connection closed, or refused this request's body */
  clientClosed(): void {
    const owner = this.owner;
    this.owner = null;
    if (!this.complete) this.failBody(new Error('client closed the connection'));
    owner?.onClientClose();
  }

  /** @internal its connection answers for it (a raw 4xx): nothing more is written for it */
  abandon(): void {
    this.abandoned = true;
  }

  // --- the response ---

  writeContinue(): void {
    if (!this.headSent && !this.abandoned) this.res?.writeContinue();
  }

  writeHead(status: number, statusText: string, raw: readonly Buffer[]): void {
    const res = this.res;
    this.headSent = true;
    if (res === null || this.abandoned) return;
    const fields = keptResponseFields(raw, facts);
    // The client is still sending a body the pod answered without: the connection closes after.
    if (this.bodyPending()) this.closeAfter = true;
    this.framing(res);
    try {
      res.writeHead(status, statusText === '' ? undefined : statusText, fields);
    } catch {
      // node:http refuses a field value it would not write (ERR_INVALID_CHAR): nothing was sent.
      this.destroy();
    }
  }

  write(chunk: Buffer): boolean {
    const res = this.res;
    if (res === null || this.abandoned || this.finished || chunk.length === 0) return true;
    return res.write(chunk);
  }

  onDrain(listener: () => void): void {
    this.res?.once('drain', listener);
  }

  end(): void {
    this.finish(undefined);
  }

  sendWhole(status: number, reason: string, fields: string, body: string, close: boolean): void {
    if (this.headSent) {
      this.destroy();
      return;
    }
    this.headSent = true;
    // A body still coming would be read only to be dropped: close instead (it may be large).
    if (close || this.bodyPending()) this.closeAfter = true;
    const res = this.res;
    if (this.abandoned) return;
    const text = this.method === 'HEAD' ? undefined : body;
    if (res === null) {
      // An Upgrade or a CONNECT: node:http gave up the socket after its head, and nothing after it is read.
      this.closeAfter = true;
      const head = `HTTP/1.1 ${status} ${reason}\r\n${fields}date: ${new Date().toUTCString()}\r\nconnection: close\r\n\r\n`;
      this.conn.socket.write(text === undefined ? head : head + text);
      this.finish(undefined);
      return;
    }
    this.framing(res);
    res.writeHead(status, reason, splitFields(fields));
    this.finish(text);
  }

  destroy(): void {
    this.conn.socket.destroy();
  }

  private bodyPending(): boolean {
    return !this.complete && declaresBody(this);
  }

  /** Keep-alive or close, as this response leaves the connection: node:http writes the lines. */
  private framing(res: ServerResponse): void {
    if (!this.keepAlive || this.conn.closing) this.closeAfter = true;
    if (this.closeAfter) res.shouldKeepAlive = false;
  }

  private finish(body: string | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.owner = null;
    if (this.bodyPending()) {
      // Answered before its body ended: the rest would be read only to be dropped, so the
      // connection closes instead, as on the native front.
      this.closeAfter = true;
      if (this.sink !== null) this.sink = DISCARD_BODY;
    }
    if (this.abandoned) return;
    const res = this.res;
    if (res === null) this.conn.responseEnded(this);
    else res.end(body);
  }

  /** node:http handed the whole response to the socket. */
  private readonly onFinish = (): void => {
    this.conn.responseEnded(this);
  };

  private readonly onData = (chunk: Buffer): void => {
    this.sink?.onBody(chunk);
  };

  private readonly onEnd = (): void => {
    this.sink?.onBodyEnd();
  };

  private readonly onError = (err: Error): void => {
    this.failBody(err);
  };
}

/** podgate's header lines ("name: value\r\n" each) as node:http's flat list. */
function splitFields(lines: string): string[] {
  const out: string[] = [];
  let at = 0;
  for (let end = lines.indexOf('\r\n', at); end !== -1; end = lines.indexOf('\r\n', at)) {
    const colon = lines.indexOf(':', at);
    out.push(lines.slice(at, colon), lines.slice(colon + 1, end).trim());
    at = end + 2;
  }
  return out;
}
