import type { Socket } from 'node:net';
import { NativeExchange } from './native-exchange.js';
import { ChunkedBodyDecoder, ChunkedFramingError, type ChunkedBodyEvents } from './chunked-body.js';
import { asksToClose, framingProblem } from './framing-rules.js';
import type { HttpFront } from './http-front.js';
import { giveParser, HTTPParser, METHODS, resetParser, STOP_AFTER_HEAD, takeParser, type NodeHttpParser, type ParserError } from './node-parser.js';
import { readsIntoBuffers, SHARED_READ_BUFFER, useReadBuffers } from './user-buffer-reads.js';

// Reasons to stop reading the socket; it reads again when none is left.
const PAUSED_BY_BODY = 1;
const PAUSED_BY_QUEUE = 2;
// After a response that closes the connection, bytes the client is still sending are read and
// dropped this long: closing with unread bytes would reset the connection, and the reset can
// destroy the response before the client reads it (nginx's lingering_close).
const LINGER_MS = 2000;

/**
 * One client connection: feeds node's parser, queues the requests it yields and answers them one
 * at a time, in order (pipelined requests wait for the ones before them, as in nginx). It owns the
 * connection's timers (header, request, keep-alive), which the front checks on an interval.
 */
export class ClientConnection implements ChunkedBodyEvents {
  readonly socket: Socket;
  readonly front: HttpFront;
  readonly remoteAddress: string;
  /** No request after the current ones will be processed; the connection closes after them. */
  closing = false;
  /** Set by the exchange being answered when a write filled the socket's buffer. */
  drainListener: (() => void) | null = null;

  /** Requests in order: the first is being answered, the rest wait. */
  private readonly queue: NativeExchange[] = [];
  private parser: NodeHttpParser | null;
  /** The request whose head or body is being read (the last of the queue once its head is in). */
  private reading: NativeExchange | null = null;
  private headerFields: string[] | null = null;
  private headerUrl = '';
  /** When the message being read began (0: none is). */
  messageStart = 0;
  /** Messages llhttp began and completed, and their counts when the last read was parsed. */
  private messagesBegun = 0;
  private messagesCompleted = 0;
  private begunBeforeRead = 0;
  private completedBeforeRead = 0;
  /** When the connection went idle: accepted, or its last response ended. */
  idleSince: number;
  /** Requests answered: an idle connection that served none waits the header timeout, else keep-alive's. */
  served = 0;
  private pausedBy = 0;
  private pausedAt = 0;
  /** The socket's handle when the parser reads it (consume); null when bytes come as 'data'. */
  private handle: StreamHandle | null = null;
  /** The handle the parser can consume (a StreamBase), consumed or not. */
  private readonly streamHandle: StreamHandle | null = null;
  /** The chunked body being read (by podgate, not llhttp: chunked-body.ts); null when none is. */
  private chunked: ChunkedBodyDecoder | null = null;
  /**
   * The Content-Length body being read straight into its reader's buffer (by podgate, past llhttp:
   * no Buffer per read, no copy per body part); null when none is.
   */
  private direct: DirectBody | null = null;
  /** The socket reads into buffers podgate hands it (user-buffer-reads.ts), once a direct body needed it. */
  private ownBuffers = false;
  /** llhttp reports a chunked or direct request complete as it hands it over at its head: not yet, to us. */
  private skipMessageComplete = false;
  /** A 4xx to send once the responses before it ended (a malformed or too slow request), then close. */
  private finalError: string | null = null;
  /** Bytes from the client are no longer read as requests (after an error, an upgrade, a close). */
  private ignoreInput = false;
  private refused = false;

  constructor(front: HttpFront, socket: Socket, now: number) {
    this.front = front;
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.idleSince = now;
    const parser = takeParser(front.maxHeaderBytes);
    this.parser = parser;
    parser[HTTPParser.kOnMessageBegin] = this.onMessageBegin;
    parser[HTTPParser.kOnHeaders] = this.onHeaders;
    parser[HTTPParser.kOnHeadersComplete] = this.onHeadersComplete;
    parser[HTTPParser.kOnBody] = this.onBody;
    parser[HTTPParser.kOnMessageComplete] = this.onMessageComplete;
    // The 'data' listener starts the socket reading; then, as node:http does, the parser takes
    // over the handle and reads it in C++, so no Buffer is made of the raw bytes (a POST 64 KiB made
    // one per read, and a copy of each body part on top).
    socket.on('data', this.onData);
    const handle = (socket as Socket & { _handle?: StreamHandle | null })._handle;
    if (handle?.isStreamBase === true && handle._consumed !== true) {
      handle._consumed = true;
      this.streamHandle = handle;
      this.handle = handle;
      parser[HTTPParser.kOnExecute] = this.onExecute;
      parser.consume(handle);
    }
    socket.on('end', this.onEnd);
    socket.on('drain', this.onDrain);
    socket.on('error', noop);
    socket.on('close', this.onClose);
  }

  /** podgate stopped reading the socket (a queue of requests, a body the pod is slow to take). */
  get paused(): boolean {
    return this.pausedBy !== 0;
  }

  /** Nothing is being read or answered. */
  get idle(): boolean {
    return this.queue.length === 0 && this.messageStart === 0;
  }

  /** The head of a request is being read (the header timeout runs; the request timeout runs after it too). */
  get readingHead(): boolean {
    return this.messageStart !== 0 && this.reading === null;
  }

  pauseReading(reason = PAUSED_BY_BODY): void {
    if (this.pausedBy === 0) {
      this.pausedAt = Date.now();
      // A consumed handle is read by the parser, not the stream: stop the handle itself.
      const handle = this.handle;
      if (handle === null) this.socket.pause();
      else if (handle.reading) {
        handle.reading = false;
        handle.readStop();
      }
    }
    this.pausedBy |= reason;
  }

  resumeReading(reason = PAUSED_BY_BODY): void {
    if ((this.pausedBy & reason) === 0) return;
    this.pausedBy &= ~reason;
    if (this.pausedBy !== 0 || this.socket.destroyed) return;
    // Time podgate did not read is not the client's: a request cut at the end of the last read
    // must not hit the header or request timeout for it.
    if (this.messageStart !== 0) this.messageStart += Date.now() - this.pausedAt;
    const handle = this.handle;
    if (handle === null) this.resumeStream();
    else if (!handle.reading) {
      handle.reading = true;
      handle.readStart();
    }
  }

  /** The header or request timeout passed: answer 408 after the responses owed, then close. */
  timedOut(): void {
    this.refuse(this.front.requestTimeoutReply(), new Error('client took too long to send the request'));
  }

  /** Stop taking requests; close when the ones in flight are answered (server shutdown). */
  drain(): void {
    this.closing = true;
    if (this.idle) this.closeGracefully();
  }

  /** @internal an exchange's response ended */
  responseEnded(ex: NativeExchange): void {
    if (ex.closeAfter) {
      this.closeGracefully();
      return;
    }
    // The rest of its body (a pod may answer before reading it all) is read and dropped first.
    if (ex.complete) this.next();
  }

  private next(): void {
    this.queue.shift();
    this.served++;
    this.drainListener = null;
    this.startNext();
  }

  private readonly startNext = (): void => {
    const head = this.queue[0];
    if (head !== undefined && this.socket.writableNeedDrain) {
      // The client is not reading its answers: the next pipelined one waits until it does, so
      // answers cannot pile up in memory (node:http stops reading such a socket too).
      this.drainListener = this.startNext;
      return;
    }
    if (head !== undefined) {
      if (this.queue.length < 2) this.resumeReading(PAUSED_BY_QUEUE);
      // Not from here: a run of pipelined requests answered at once (404s, say) would nest a
      // call per request on the stack.
      process.nextTick(this.startHead, head);
      return;
    }
    if (this.finalError !== null) {
      this.socket.write(this.finalError);
      this.closeGracefully();
      return;
    }
    this.resumeReading(PAUSED_BY_QUEUE);
    this.idleSince = Date.now();
    if (this.closing) this.closeGracefully();
  };

  private readonly startHead = (head: NativeExchange): void => {
    if (this.queue[0] === head && !this.socket.destroyed) this.front.onExchange(head);
  };

  private closeGracefully(): void {
    this.closing = true;
    this.ignoreInput = true;
    for (let i = 1; i < this.queue.length; i++) (this.queue[i] as NativeExchange).clientClosed();
    this.queue.length = 0;
    this.resumeReading(PAUSED_BY_BODY | PAUSED_BY_QUEUE);
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), LINGER_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  /**
   * The request being read is unusable (malformed, too slow): it is dropped, `reply` goes out after
   * the responses owed to earlier requests, and nothing more is read.
   */
  private refuse(reply: string, err: Error): void {
    if (this.refused) return;
    this.refused = true;
    this.ignoreInput = true;
    this.direct = null;
    const partial = this.reading;
    this.reading = null;
    this.messageStart = 0;
    if (partial !== null) {
      partial.failBody(err);
      if (this.queue[0] === partial) {
        // Its handler may already be forwarding it (a streamed body): it is told the client left.
        partial.clientClosed();
        if (partial.headSent) {
          this.socket.destroy();
          return;
        }
      }
      const i = this.queue.indexOf(partial);
      if (i !== -1) this.queue.splice(i, 1);
    }
    this.finalError = reply;
    if (this.queue.length === 0) {
      this.socket.write(reply);
      this.closeGracefully();
    }
  }

  private readonly onData = (data: Buffer): void => {
    this.parse(data, true);
  };

  /**
   * Parses a read. `stable`: `data` stays as it is after this call (a 'data' Buffer), rather than
   * being the shared read buffer, which the next read overwrites.
   */
  private parse(data: Buffer, stable: boolean): void {
    if (this.ignoreInput) return;
    if (this.chunked !== null || this.direct !== null) {
      this.readBodies(data, 0, stable);
      return;
    }
    const parser = this.parser as NodeHttpParser;
    const ret = parser.execute(data);
    if (typeof ret !== 'number') {
      if (!this.ignoreInput) this.parseError(ret);
    } else if (this.chunked !== null || this.direct !== null) {
      // llhttp stopped after the head of a body podgate reads itself: the body starts there.
      this.readBodies(data, ret, stable);
    } else if (this.headStartedInThisRead()) {
      this.checkRequestLine(data);
    }
  }

  /** After the parser parsed what it read from a consumed handle. */
  private readonly onExecute = (ret: number | ParserError): void => {
    if (typeof ret !== 'number') {
      if (!this.ignoreInput) this.parseError(ret);
      return;
    }
    const bodyFollows = this.chunked !== null || this.direct !== null;
    if (!bodyFollows && this.headStartedInThisRead()) this.checkRequestLine((this.parser as NodeHttpParser).getCurrentBuffer());
    if (!bodyFollows || this.ignoreInput) return;
    // llhttp stopped after the head of a body podgate reads itself. The rest of this read (valid
    // only during this callback, as node's server reads an upgrade's first bytes) and what follows
    // come as 'data', or straight into a direct body's buffer.
    const parser = this.parser as NodeHttpParser;
    const data = parser.getCurrentBuffer();
    this.releaseHandle();
    this.readBodies(data, ret, true);
  };

  /**
   * Reads a chunked or direct body from `data` at `at`; once it ends, hands what follows back to
   * llhttp (which may stop at another such head in it), and gives it the handle again.
   */
  private readBodies(read: Buffer, at: number, stable: boolean): void {
    let data = read;
    let from = at;
    while ((this.chunked !== null || this.direct !== null) && !this.ignoreInput) {
      let end: number;
      const direct = this.direct;
      if (direct !== null) {
        end = direct.copyFrom(data, from);
        if (end < 0) {
          this.readStraightInto();
          return;
        }
        this.direct = null;
        this.reading?.pushBody(direct.body());
        this.messageComplete();
      } else {
        // The decoder hands out views of what it reads, kept as the body's parts: not of the
        // shared read buffer, which the next read overwrites.
        if (!stable) {
          data = Buffer.from(data.subarray(from));
          from = 0;
        }
        try {
          end = (this.chunked as ChunkedBodyDecoder).read(data, from);
        } catch (err) {
          this.chunked = null;
          const framing = err as ChunkedFramingError;
          this.refuse(
            framing.tooLarge ? this.front.parseErrorReply('HPE_HEADER_OVERFLOW') : this.front.badRequestReply(`malformed chunked body: ${framing.message}`),
            framing,
          );
          return;
        }
        if (end < 0) return;
        this.chunked = null;
        this.messageComplete();
      }
      if (this.ignoreInput) return;
      const parser = this.parser as NodeHttpParser;
      resetParser(parser, this.front.maxHeaderBytes);
      if (end === data.length) break;
      const ret = parser.execute(data.subarray(end));
      if (typeof ret !== 'number') {
        if (!this.ignoreInput) this.parseError(ret);
        return;
      }
      from = end + ret;
    }
    if (this.chunked === null && this.direct === null && !this.ignoreInput) this.consumeHandle();
  }

  /**
   * The rest of a direct body comes in later reads: straight into its buffer when the socket can
   * read into podgate's buffers, else as 'data' copied there (readBodies).
   */
  private readStraightInto(): void {
    if (this.ownBuffers) return;
    const handle = this.streamHandle;
    // Only while the parser does not consume the handle: the socket's reads are podgate's then.
    // The first read after this goes into the shared buffer (copied into the body's), the ones
    // after it straight into the body's buffer (nextReadBuffer).
    if (handle !== null && this.handle === null && readsIntoBuffers) this.ownBuffers = useReadBuffers(this.socket, handle, this.onOwnRead, this.nextReadBuffer);
  }

  /** node's read callback when the socket reads into podgate's buffers: `buffer` holds `n` new bytes. */
  private readonly onOwnRead = (n: number, buffer: Uint8Array): void => {
    if (this.ignoreInput) return;
    const direct = this.direct;
    if (direct !== null && buffer !== SHARED_READ_BUFFER) {
      // Any buffer but the shared one is the body's: nextReadBuffer hands out no other, and a
      // body's reads end only with its last byte or with the connection (ignoreInput, direct null).
      direct.received(n);
      if (!direct.done()) return;
      this.direct = null;
      this.reading?.pushBody(direct.body());
      this.messageComplete();
      if (!this.ignoreInput) resetParser(this.parser as NodeHttpParser, this.front.maxHeaderBytes);
      return;
    }
    // A read into the shared buffer, parsed where it is (llhttp copies what it keeps of a head;
    // a direct body's part is copied into its buffer, a chunked body's out of the shared buffer).
    this.parse(SHARED_READ_BUFFER.subarray(0, n), false);
  };
  /** node asks, after each read, where the next one goes. */
  private readonly nextReadBuffer = (): Uint8Array => {
    const direct = this.direct;
    return direct === null || this.ignoreInput ? SHARED_READ_BUFFER : direct.rest();
  };

  /** Bytes come as 'data' events from now on (a chunked body is being read). */
  private releaseHandle(): void {
    if (this.handle === null) return;
    (this.parser as NodeHttpParser).unconsume();
    this.handle = null;
    // The stream takes over reading: it must agree with podgate on whether to read.
    if (this.pausedBy !== 0) this.socket.pause();
    else this.resumeStream();
  }

  /**
   * The stream reads again. While the parser consumed the handle, a stop podgate made there, or a
   * read the stream asked for and never got (its `reading` flag stays set), would keep
   * `socket.resume()` from ever starting the handle again: start it here (found by the fuzz suite:
   * a pipelined chunked request whose body came in a later read was never answered).
   */
  private resumeStream(): void {
    this.socket.resume();
    const handle = this.streamHandle;
    if (handle !== null && !handle.reading && !this.socket.destroyed) {
      handle.reading = true;
      handle.readStart();
    }
  }

  /**
   * The parser reads the handle in C++ again (as in the constructor). Not once the socket reads
   * into podgate's buffers: node has no way back, and reads into the shared buffer are parsed
   * where they are, without a copy, as cheaply.
   */
  private consumeHandle(): void {
    const handle = this.streamHandle;
    if (handle === null || this.handle !== null || this.socket.destroyed || this.ownBuffers) return;
    (this.parser as NodeHttpParser).consume(handle);
    this.handle = handle;
    if (this.pausedBy !== 0) {
      if (handle.reading) {
        handle.reading = false;
        handle.readStop();
      }
    } else if (!handle.reading) {
      handle.reading = true;
      handle.readStart();
    }
  }

  /**
   * After a read: a head is still incomplete, it began in this read, and no message ended in it,
   * so it began at the read's first byte (rare: a head usually comes whole). Resets the counts.
   */
  private headStartedInThisRead(): boolean {
    const begun = this.messagesBegun !== this.begunBeforeRead && this.messagesCompleted === this.completedBeforeRead;
    this.begunBeforeRead = this.messagesBegun;
    this.completedBeforeRead = this.messagesCompleted;
    return begun && !this.ignoreInput && this.readingHead;
  }

  /**
   * llhttp reads `GET /` and a line end as an HTTP/0.9 request line and waits for the header
   * lines that never come: the client waited for the header timeout (10 s) where nginx answers at
   * once. A first line that ended without a version is refused now. `data` starts with the head.
   */
  private checkRequestLine(data: Buffer): void {
    let at = 0;
    // RFC 9112 §2.2: empty lines before the request line are ignored.
    while (at < data.length && (data[at] === 13 || data[at] === 10)) at++;
    const end = data.indexOf(10, at);
    if (end === -1) return;
    const line = data.toString('latin1', at, end);
    if (line.includes(' HTTP/')) return;
    this.refuse(this.front.badRequestReply('request line without an HTTP version (HTTP/0.9 is not accepted)'), new Error('HTTP/0.9 request line'));
  }

  /** @internal chunked-body.ts */
  onChunkData(piece: Buffer): void {
    this.reading?.pushBody(piece);
  }

  /** @internal chunked-body.ts */
  onChunkAnnounced(total: number): boolean {
    const ex = this.reading;
    if (ex === null) return true;
    ex.announceBody(total);
    if (!ex.bodyDiscarded) return true;
    // Refused as too large (its 413 is on its way): nothing more of it is read, nor after it, so
    // no framing error in the bytes that follow can answer first. Its response closes.
    this.ignoreInput = true;
    this.chunked = null;
    this.reading = null;
    this.messageStart = 0;
    return false;
  }

  private parseError(err: ParserError): void {
    // RFC 9112 §9.6: after a request that said close, further bytes are not a request.
    if (err.code === 'HPE_CLOSED_CONNECTION') {
      this.ignoreInput = true;
      return;
    }
    this.refuse(this.front.parseErrorReply(err.code), err);
  }

  private readonly onEnd = (): void => {
    // The client will send nothing more: a request cut short is over; the rest are abandoned as
    // node:http does (the socket ends itself, allowHalfOpen being off).
    this.ignoreInput = true;
    this.direct = null;
    for (const ex of this.queue) ex.clientClosed();
    this.reading?.failBody(new Error('client closed the connection'));
  };

  private readonly onDrain = (): void => {
    const listener = this.drainListener;
    if (listener === null) return;
    this.drainListener = null;
    listener();
  };

  private readonly onClose = (): void => {
    this.front.forget(this);
    for (const ex of this.queue) ex.clientClosed();
    this.reading?.failBody(new Error('client closed the connection'));
    this.queue.length = 0;
    this.reading = null;
    const parser = this.parser;
    this.parser = null;
    if (parser === null) return;
    if (this.handle !== null) parser.unconsume();
    this.chunked = null;
    this.direct = null;
    giveParser(parser);
  };

  private readonly onMessageBegin = (): void => {
    this.messagesBegun++;
    // Nothing of the message before may reach this one (see onMessageComplete).
    this.headerFields = null;
    this.headerUrl = '';
    if (!this.ignoreInput) this.messageStart = Date.now();
  };

  /**
   * llhttp hands over header fields in batches of 32 pairs before the head ends, when there are
   * more; and, when a chunked body ends, its trailer fields together with the URL once more.
   */
  private readonly onHeaders = (fields: string[], url: string): void => {
    if (this.ignoreInput) return;
    this.headerFields = this.headerFields === null ? fields : this.headerFields.concat(fields);
    this.headerUrl += url;
  };

  private readonly onHeadersComplete = (
    major: number,
    minor: number,
    fields: string[] | undefined,
    method: number,
    url: string | undefined,
    _status: unknown,
    _statusText: unknown,
    upgrade: boolean,
    keepAlive: boolean,
  ): number => {
    if (this.ignoreInput) return 0;
    let headers = fields;
    let target = url;
    if (this.headerFields !== null) {
      headers = fields === undefined ? this.headerFields : this.headerFields.concat(fields);
      target = this.headerUrl + (url ?? '');
      this.headerFields = null;
      this.headerUrl = '';
    }
    const ex = new NativeExchange(this, METHODS[method] ?? '', target ?? '', major, minor, headers ?? [], upgrade, keepAlive);
    if (keepAlive && asksToClose(ex.connection)) ex.keepAlive = false;
    const problem = framingProblem(ex.transferEncoding);
    if (problem !== null) {
      // llhttp has read past this head by its own reading of the framing: nothing after it is used.
      this.refuse(this.front.badRequestReply(problem), new Error(problem));
      return 0;
    }
    this.reading = ex;
    this.queue.push(ex);
    // llhttp would go on parsing what follows an Upgrade or a CONNECT as HTTP; it is not, to us.
    if (upgrade) this.ignoreInput = true;
    else if (ex.transferEncoding !== undefined) this.chunked = new ChunkedBodyDecoder(this, this.front.maxHeaderBytes);
    if (this.queue.length === 1) this.front.onExchange(ex);
    // One request read ahead at most: the rest wait in the socket.
    else if (this.queue.length >= 2) this.pauseReading(PAUSED_BY_QUEUE);
    if (this.chunked === null && !upgrade && !this.ignoreInput) this.direct = DirectBody.for(ex);
    if (this.chunked === null && this.direct === null) return 0;
    this.skipMessageComplete = true;
    return STOP_AFTER_HEAD;
  };

  private readonly onBody = (chunk: Buffer): void => {
    this.reading?.pushBody(chunk);
  };

  private readonly onMessageComplete = (): void => {
    if (this.skipMessageComplete) {
      this.skipMessageComplete = false;
      return;
    }
    this.messageComplete();
  };

  private messageComplete(): void {
    this.messagesCompleted++;
    // Root cause of a leak between requests: node's binding flushes a chunked body's trailer
    // fields, with the request's URL again, to onHeaders just before this call. Kept, they were
    // joined onto the next request's head (its path prefixed, a trailer Cookie or Host added).
    // Request trailers are dropped, as nginx does: the body goes to the pod re-framed, and no
    // field podgate acts on may arrive after the head it routed by.
    this.headerFields = null;
    this.headerUrl = '';
    const ex = this.reading;
    this.reading = null;
    this.messageStart = 0;
    // A streamed body that filled its stream paused reading, and its stream, ended, will not ask
    // for more: what follows is the next request's (found by the front's fuzz suite with 64 KiB
    // bodies: a chunked body pushed past its stream's mark in its last read left the connection
    // paused for good, and the request after it was never read).
    this.resumeReading(PAUSED_BY_BODY);
    if (ex === null) return;
    ex.endBody();
    // Answered before its body ended: the next request can go now.
    if (ex.finished && this.queue[0] === ex && !ex.closeAfter) this.next();
    // RFC 9112 §9.6: after a request that said close, further bytes are not a request (llhttp
    // refuses them itself, HPE_CLOSED_CONNECTION, but not after a body it did not read).
    if (!ex.keepAlive) this.ignoreInput = true;
  }
}

function noop(): void {}

/**
 * A Content-Length body read into the one buffer its reader gave for it (request-body.ts): from
 * the read that held its head by a copy, then by the socket's reads straight into the buffer.
 */
class DirectBody {
  private at = 0;

  private constructor(
    private readonly target: Buffer,
    private readonly size: number,
  ) {}

  /** For a request whose reader takes its body in one buffer (a body it holds whole); else null. */
  static for(ex: NativeExchange): DirectBody | null {
    const declared = ex.contentLength;
    if (declared === undefined) return null;
    const size = Number(declared);
    const target = ex.bodyBuffer(size);
    return target === null ? null : new DirectBody(target, size);
  }

  /** Copies what `data` holds of the body from `from`; the offset after the body's last byte, or -1 while more is to come. */
  copyFrom(data: Buffer, from: number): number {
    const n = Math.min(this.size - this.at, data.length - from);
    data.copy(this.target, this.at, from, from + n);
    this.at += n;
    return this.done() ? from + n : -1;
  }

  /** Where the next read goes: the part of the buffer still to fill. */
  rest(): Buffer {
    return this.target.subarray(this.at, this.size);
  }

  received(n: number): void {
    this.at += n;
  }

  done(): boolean {
    return this.at === this.size;
  }

  /** The whole body, once done. */
  body(): Buffer {
    return this.target.subarray(0, this.size);
  }
}

/** The part of a socket's libuv handle (a StreamBase) the parser consumes. */
interface StreamHandle {
  isStreamBase?: boolean;
  _consumed?: boolean;
  reading: boolean;
  readStart(): number;
  readStop(): number;
}
