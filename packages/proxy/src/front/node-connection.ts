import type { Socket } from 'node:net';
import { badFramingReply, parseErrorReply, requestTimeoutReply } from './front.js';
import { framingProblem } from './framing-rules.js';
import type { NodeExchange } from './node-exchange.js';
import type { NodeHttpFront } from './node-http-front.js';

// As client-connection.ts: after a response that closes, bytes still coming are read and dropped
// this long, so the close is not a reset that can destroy the response (nginx's lingering_close).
const LINGER_MS = 2000;

/**
 * One client connection of the node:http front. node:http parses pipelined requests as they come
 * and would answer them all at once; podgate answers them one at a time, in order, as the native
 * front does, so that a 4xx for a malformed request goes out after the answers owed before it, and
 * nothing after a close, an upgrade or a refusal is taken as a request.
 */
export class NodeConnection {
  readonly socket: Socket;
  readonly remoteAddress: string;
  /** No request after the current ones will be taken; the connection closes after them. */
  closing = false;

  private readonly front: NodeHttpFront;
  /** Requests in order: the first is being answered, the rest wait. */
  private readonly queue: NodeExchange[] = [];
  /** Requests node:http reads from now on are not taken (after a close, an upgrade or a refusal). */
  private takesRequests = true;
  private refused = false;
  /** An upgraded socket: node:http no longer reads it. */
  private upgraded = false;
  /** A 4xx to send once the responses before it ended, then close. */
  private finalError: string | null = null;
  /** The socket was ended (or is lingering to close). */
  private ended = false;

  constructor(front: NodeHttpFront, socket: Socket) {
    this.front = front;
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    // node:http drops its own error listener after the first error, and at an upgrade.
    socket.on('error', noop);
    socket.on('close', this.onClose);
  }

  /** Nothing is being answered. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  /** A request node:http read the head of (its body follows on the IncomingMessage). */
  take(ex: NodeExchange): void {
    if (!this.takesRequests) return;
    // RFC 9112 §9.6: after a request that said close, further bytes are not a request.
    if (!ex.keepAlive) this.takesRequests = false;
    const problem = framingProblem(ex.transferEncoding);
    if (problem !== null) {
      // llhttp reads past this head by its own reading of the framing: nothing after it is used.
      this.refuse(badFramingReply(this.front.options, problem), new Error(problem));
      return;
    }
    this.add(ex);
  }

  /** An Upgrade or a CONNECT: node:http stopped reading the socket after its head. */
  takeUpgrade(ex: NodeExchange): void {
    if (!this.takesRequests) return;
    this.takesRequests = false;
    this.upgraded = true;
    this.add(ex);
  }

  /** node:http's clientError: the parser refused the bytes, a timeout passed, or the socket failed. */
  clientError(err: Error & { code?: string }): void {
    if (this.refused) return;
    const code = err.code ?? '';
    const reading = this.reading();
    // After a request that said close: what follows is not a request (HPE_CLOSED_CONNECTION, or
    // an error in bytes llhttp read as one).
    if (reading === null && (!this.takesRequests || code === 'HPE_CLOSED_CONNECTION')) {
      this.takesRequests = false;
      return;
    }
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // A connection that never sent a byte is closed without an answer, as on the native front.
      if (this.socket.bytesRead === 0) this.socket.destroy();
      else this.refuse(requestTimeoutReply(this.front.options), err);
    } else if (code.startsWith('HPE_')) {
      this.refuse(parseErrorReply(this.front.options, code), err);
    } else {
      // A socket error (ECONNRESET, ...): the client is gone.
      this.socket.destroy();
    }
  }

  /** @internal an exchange's response was handed to the socket whole */
  responseEnded(ex: NodeExchange): void {
    if (this.queue[0] !== ex) return;
    this.queue.shift();
    if (ex.closeAfter || this.socket.writableEnded) {
      this.closeGracefully();
      return;
    }
    const next = this.queue[0];
    if (this.queue.length < 2 && !this.upgraded) this.socket.resume();
    if (next !== undefined) {
      // Not from here: a run of pipelined requests answered at once would nest a call each.
      process.nextTick(this.start, next);
      return;
    }
    if (this.finalError !== null) {
      this.socket.write(this.finalError);
      this.closeGracefully();
      return;
    }
    if (this.closing) {
      this.closeGracefully();
      return;
    }
    // node:http waits keepAliveTimeout + 1 s (its HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER); podgate
    // closes at the keep-alive timeout it announced, as the native front does. node:http sets the
    // socket's timeout back to none when the next request begins.
    const keepAlive = this.front.options.keepAliveTimeoutMs;
    if (keepAlive > 0) this.socket.setTimeout(keepAlive);
  }

  /** Stop taking requests; close once the ones in flight are answered (server shutdown). */
  drain(): void {
    this.closing = true;
    this.takesRequests = false;
    if (this.idle) this.closeGracefully();
  }

  private add(ex: NodeExchange): void {
    this.queue.push(ex);
    if (this.queue.length === 1) this.front.options.onExchange(ex);
    // One request read ahead, as the native front: node:http's parser still finishes the read it
    // is in, then stops. Left to itself it parses pipelined requests as long as the client's
    // answers drain, each waiting here with its IncomingMessage and ServerResponse.
    else this.socket.pause();
  }

  private readonly start = (ex: NodeExchange): void => {
    if (this.queue[0] === ex && !this.socket.destroyed) this.front.options.onExchange(ex);
  };

  /** The last request taken, while node:http still reads its body. */
  private reading(): NodeExchange | null {
    const last = this.queue[this.queue.length - 1];
    return last !== undefined && !last.upgrade && !last.complete ? last : null;
  }

  /**
   * The request being read is unusable (malformed, too slow): it is dropped, `reply` goes out after
   * the responses owed to earlier requests, and nothing more is taken.
   */
  private refuse(reply: string, err: Error): void {
    this.refused = true;
    this.takesRequests = false;
    const partial = this.reading();
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
      partial.abandon();
      this.queue.pop();
    }
    this.finalError = reply;
    if (this.queue.length === 0) {
      this.socket.write(reply);
      this.closeGracefully();
    }
  }

  private closeGracefully(): void {
    if (this.ended) return;
    this.ended = true;
    this.closing = true;
    this.takesRequests = false;
    for (const ex of this.queue.splice(0)) ex.clientClosed();
    const socket = this.socket;
    if (socket.destroyed) return;
    // node:http's parser goes on reading (and podgate drops what it reads); an upgraded socket
    // is read here.
    if (this.upgraded) {
      socket.on('data', noop);
      socket.resume();
    }
    if (!socket.writableEnded) socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  private readonly onClose = (): void => {
    this.front.forget(this.socket);
    const queue = this.queue.splice(0);
    for (const ex of queue) ex.clientClosed();
  };
}

function noop(): void {}
