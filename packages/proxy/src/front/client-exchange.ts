import type { RequestHead } from './request-head.js';

/*
 * What the proxy's request path (proxy-server.ts, proxy-request.ts, request-body.ts, client-error.ts)
 * needs from a request and its response, whichever front read it: podgate's own on node's parser
 * (native-exchange.ts) or the node:http one it falls back to (node-exchange.ts). One front serves a
 * process, so the calls through this interface stay monomorphic.
 */

/** Where a request body goes as it arrives (a buffering reader, then maybe a stream to a pod). */
export interface BodySink {
  onBody(chunk: Buffer): void;
  /** A chunk size line said the body will be `total` bytes once that chunk arrives (native front only). */
  onBodyAnnounced(total: number): void;
  onBodyEnd(): void;
  /** The client left or was too slow before the body ended. */
  onBodyError(err: Error): void;
  /**
   * A buffer of at least `size` bytes to read a Content-Length body of `size` bytes straight into
   * (native front only), or null to take it in parts. With a buffer, the body comes as one onBody
   * of its first `size` bytes, then onBodyEnd; on an error, the buffer may still be written to by
   * a read in flight, so it must not be reused.
   */
  bodyBuffer?(size: number): Buffer | null;
}

/** For a body nobody wants any more (refused, or past the limit): its bytes are read and dropped. */
export const DISCARD_BODY: BodySink = { onBody() {}, onBodyAnnounced() {}, onBodyEnd() {}, onBodyError() {} };

/** Who answers the exchange: told when the client goes away before the response ended. */
export interface ExchangeOwner {
  onClientClose(): void;
}

/** One request on a client connection and the response to it. */
export interface ClientExchange extends RequestHead {
  readonly remoteAddress: string;
  owner: ExchangeOwner | null;
  /** The response ended (all of it handed to the socket). */
  readonly finished: boolean;
  /** Why the request body could not be read whole (the client left or was too slow). */
  readonly receiveError: Error | null;

  /** Body chunks from now on go to `sink` (those that came before it first, in order). */
  setBodySink(sink: BodySink): void;
  /** Stops reading the request body until resumeBody (a pod slow to take a streamed body). */
  pauseBody(): void;
  resumeBody(): void;

  /** RFC 9110 §10.1.1: the client may send the body it announced with Expect: 100-continue. */
  writeContinue(): void;
  /** The pod's status and raw header fields; the front drops the hop-by-hop ones and frames the body. */
  writeHead(status: number, statusText: string, raw: readonly Buffer[]): void;
  /** A body chunk; false when the socket's buffer is full (wait for onDrain). */
  write(chunk: Buffer): boolean;
  /** Calls `listener` once when the socket can take more (after write returned false). */
  onDrain(listener: () => void): void;
  end(): void;
  /**
   * A whole response from podgate itself (an error): `fields` are complete lines, without Date and
   * Connection. With `close` the connection closes after it.
   */
  sendWhole(status: number, reason: string, fields: string, body: string, close: boolean): void;
  /** Cuts the connection (a response that cannot be finished). */
  destroy(): void;
}
