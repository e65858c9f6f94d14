import type { ClientConnection } from './client-connection.js';
import { DISCARD_BODY, type BodySink, type ClientExchange, type ExchangeOwner } from './client-exchange.js';
import type { RequestHead } from './request-head.js';
import { buildHead, scanResponseHeaders, type HeadFacts } from './response-head.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const LAST_CHUNK = '0\r\n\r\n';
const facts: HeadFacts = { contentLength: -1, hasDate: false, size: 0 };

/**
 * One request on a client connection of the native front and the response to it: what node:http
 * splits into an IncomingMessage and a ServerResponse, as one object. The response is written on the
 * socket directly, framed by Content-Length when the pod sent one, else chunked (HTTP/1.1) or by
 * closing (HTTP/1.0).
 */
export class NativeExchange implements ClientExchange, RequestHead {
  readonly method: string;
  readonly url: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** Names and values as the client sent them: [name, value, name, value, ...]. */
  readonly rawHeaders: string[];
  /** An Upgrade or a CONNECT: llhttp stops reading the connection as HTTP after it. */
  readonly upgrade: boolean;
  /**
   * llhttp's should_keep_alive (HTTP/1.1 without close, or HTTP/1.0 with keep-alive), and false
   * when a `close` token is there that llhttp missed (framing-rules.ts).
   */
  keepAlive: boolean;

  // The fields podgate acts on (request-head.ts).
  host: string | undefined;
  hostCount = 0;
  contentLength: string | undefined;
  transferEncoding: string | undefined;
  connection: string | undefined;
  forwardedFor: string | undefined;
  expect: string | undefined;
  hasRequestId = false;

  /** The whole request (head and body) has arrived. */
  complete = false;
  receiveError: Error | null = null;
  owner: ExchangeOwner | null = null;
  /** Response bytes were committed (the head is written or about to be). */
  headSent = false;
  /** The response ended (all of it handed to the socket). */
  finished = false;
  /** The connection closes after this response. */
  closeAfter = false;

  private readonly conn: ClientConnection;
  private sink: BodySink | null = null;
  private pending: Buffer[] | null = null;
  /** The largest body size chunk size lines announced before a sink was set (0: none). */
  private announced = 0;
  /** setBodySink is handing pending bytes to the sink. */
  private replaying = false;
  /** Written with the first body bytes (one writev). */
  private head: Buffer | null = null;
  private chunked = false;

  constructor(conn: ClientConnection, method: string, url: string, major: number, minor: number, rawHeaders: string[], upgrade: boolean, keepAlive: boolean) {
    this.conn = conn;
    this.method = method;
    this.url = url;
    this.versionMajor = major;
    this.versionMinor = minor;
    this.rawHeaders = rawHeaders;
    this.upgrade = upgrade;
    this.keepAlive = keepAlive;
    // readRequestFields (request-head.ts), written out: the call cost 10 % of building an exchange.
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i] as string;
      // Only names of these lengths can be one podgate acts on: the rest need no lower-casing.
      const n = name.length;
      if (n !== 4 && n !== 6 && n !== 10 && n !== 12 && n !== 14 && n !== 15 && n !== 17) continue;
      const lower = name.toLowerCase();
      const value = rawHeaders[i + 1] as string;
      if (lower === 'host') {
        if (this.hostCount++ === 0) this.host = value;
      } else if (lower === 'content-length') this.contentLength ??= value;
      // Every line of it: framing-rules.ts checks the whole list, not its first line.
      else if (lower === 'transfer-encoding') this.transferEncoding = this.transferEncoding === undefined ? value : `${this.transferEncoding}, ${value}`;
      else if (lower === 'connection') this.connection = this.connection === undefined ? value : `${this.connection}, ${value}`;
      else if (lower === 'x-forwarded-for') this.forwardedFor = this.forwardedFor === undefined ? value : `${this.forwardedFor}, ${value}`;
      else if (lower === 'expect') this.expect ??= value;
      else if (lower === 'x-request-id') this.hasRequestId = true;
    }
  }

  /** Its body is read only to be dropped (refused as too large, or answered without it). */
  get bodyDiscarded(): boolean {
    return this.sink === DISCARD_BODY;
  }

  get remoteAddress(): string {
    return this.conn.remoteAddress;
  }

  /** Body bytes may still come (its head said Content-Length > 0 or chunked, and it has not ended). */
  private bodyPending(): boolean {
    if (this.complete) return false;
    return this.transferEncoding !== undefined || (this.contentLength !== undefined && Number(this.contentLength) !== 0);
  }

  // --- the request body, as the connection's parser delivers it ---

  /** Body chunks from now on go to `sink` (those that came before it first, in order). */
  setBodySink(sink: BodySink): void {
    this.sink = sink;
    // A sink may hand over to another while pending bytes are replayed to it (a buffering reader
    // to a stream past bufferBytes, or to DISCARD_BODY past maxBytes): the replay goes on, to the
    // sink of the moment, and only then is the body's end told. Ending it from the nested call cut
    // the pieces still pending (found by the front's fuzz suite: a pipelined chunked body over
    // bufferBytes reached the pod 16 bytes short, as a complete request).
    if (this.replaying) return;
    this.replaying = true;
    const pending = this.pending;
    if (pending !== null) {
      this.pending = null;
      for (const chunk of pending) this.sink.onBody(chunk);
    }
    if (this.announced !== 0) this.sink.onBodyAnnounced(this.announced);
    this.replaying = false;
    if (this.receiveError !== null) this.sink.onBodyError(this.receiveError);
    else if (this.complete) this.sink.onBodyEnd();
  }

  /** Stops reading the connection until resumeBody (a streamed body the pod is slow to take). */
  pauseBody(): void {
    this.conn.pauseReading();
  }

  resumeBody(): void {
    this.conn.resumeReading();
  }

  /** @internal the connection: a buffer to read the body into, when its reader takes one (client-exchange.ts). */
  bodyBuffer(size: number): Buffer | null {
    const sink = this.sink;
    if (sink === null || this.pending !== null || sink.bodyBuffer === undefined) return null;
    return sink.bodyBuffer(size);
  }

  /** @internal the connection's parser */
  pushBody(chunk: Buffer): void {
    if (this.sink !== null) this.sink.onBody(chunk);
    else (this.pending ??= []).push(chunk);
  }

  /** @internal the connection's chunked body reader */
  announceBody(total: number): void {
    if (this.sink !== null) this.sink.onBodyAnnounced(total);
    else this.announced = total;
  }

  /** @internal */
  endBody(): void {
    this.complete = true;
    this.sink?.onBodyEnd();
  }

  /** @internal the client left or was too slow before the request ended */
  failBody(err: Error): void {
    if (this.complete || this.receiveError !== null) return;
    this.receiveError = err;
    this.sink?.onBodyError(err);
  }

  /** @internal the connection closed */
  clientClosed(): void {
    const owner = this.owner;
    this.owner = null;
    if (!this.complete) this.failBody(new Error('client closed the connection'));
    owner?.onClientClose();
  }

  // --- the response ---

  /** RFC 9110 §10.1.1: the client may send the body it announced with Expect: 100-continue. */
  writeContinue(): void {
    if (!this.headSent) this.conn.socket.write(CONTINUE);
  }

  /** The pod's status and raw header fields, minus the hop-by-hop ones, plus podgate's framing. */
  writeHead(status: number, statusText: string, raw: readonly Buffer[]): void {
    this.headSent = true;
    scanResponseHeaders(raw, facts);
    let extra = facts.hasDate ? '' : `date: ${this.conn.front.date()}\r\n`;
    // RFC 9110 §6.4.1: no body in a HEAD response, a 1xx, 204 or 304, whatever the fields say.
    const bodyless = this.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    if (!bodyless && facts.contentLength < 0) {
      if (this.versionMinor >= 1) {
        this.chunked = true;
        extra += 'transfer-encoding: chunked\r\n';
      } else {
        // RFC 9112 §6.3: an HTTP/1.0 client reads a body of unknown length until the close.
        this.closeAfter = true;
      }
    }
    // The client is still sending a body the pod answered without: the connection closes after.
    if (this.bodyPending()) this.closeAfter = true;
    extra += this.connectionLines();
    this.head = buildHead(status, statusText, raw, facts, extra);
  }

  /** A body chunk; false when the socket's buffer is full (wait for onDrain). */
  write(chunk: Buffer): boolean {
    const socket = this.conn.socket;
    // An empty chunk would read as the last one in chunked framing.
    if (socket.destroyed || chunk.length === 0) return true;
    const head = this.head;
    if (head === null && !this.chunked) return socket.write(chunk);
    socket.cork();
    if (head !== null) {
      this.head = null;
      socket.write(head);
    }
    let ok: boolean;
    if (this.chunked) {
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      ok = socket.write('\r\n');
    } else {
      ok = socket.write(chunk);
    }
    socket.uncork();
    return ok;
  }

  /** Calls `listener` once when the socket can take more (after write returned false). */
  onDrain(listener: () => void): void {
    this.conn.drainListener = listener;
  }

  end(): void {
    if (this.finished) return;
    this.finished = true;
    this.owner = null;
    if (this.bodyPending()) {
      // Answered before its body ended (the pod did not want it all): the rest would be read only
      // to be dropped, so the connection closes instead, lingering (client-connection.ts).
      this.closeAfter = true;
      this.pending = null;
      this.sink = DISCARD_BODY;
    }
    const socket = this.conn.socket;
    if (!socket.destroyed) {
      const head = this.head;
      this.head = null;
      if (head !== null) {
        socket.cork();
        socket.write(head);
        if (this.chunked) socket.write(LAST_CHUNK);
        socket.uncork();
      } else if (this.chunked) {
        socket.write(LAST_CHUNK);
      }
    }
    this.conn.responseEnded(this);
  }

  /**
   * A whole response from podgate itself (an error): `fields` are complete lines, without Date and
   * Connection. With `close` the connection closes after it.
   */
  sendWhole(status: number, reason: string, fields: string, body: string, close: boolean): void {
    if (this.headSent) {
      this.destroy();
      return;
    }
    this.headSent = true;
    // A body still coming would be read only to be dropped: close instead (it may be large).
    if (close || this.bodyPending()) this.closeAfter = true;
    const head = `HTTP/1.1 ${status} ${reason}\r\n${fields}date: ${this.conn.front.date()}\r\n${this.connectionLines()}\r\n`;
    this.conn.socket.write(this.method === 'HEAD' ? head : head + body);
    this.end();
  }

  /** Cuts the connection (a response that cannot be finished). */
  destroy(): void {
    this.conn.socket.destroy();
  }

  /** Keep-alive or close, as this response leaves the connection. */
  private connectionLines(): string {
    if (!this.keepAlive || this.conn.closing) this.closeAfter = true;
    return this.closeAfter ? 'connection: close\r\n' : this.conn.front.keepAliveLines;
  }
}
