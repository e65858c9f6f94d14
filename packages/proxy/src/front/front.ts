import type { AddressInfo } from 'node:net';
import { rawClientError } from '../client-error.js';
import type { ClientExchange } from './client-exchange.js';

/*
 * A front: the HTTP/1.1 server side that reads client requests and hands each to the proxy as a
 * ClientExchange. Two exist: podgate's own on node's parser (http-front.ts, `native`), and one on
 * node:http's server (node-http-front.ts, `node`) for when the parser's self-test fails
 * (parser-self-test.ts). Both answer what they cannot read with the same JSON errors, below.
 */

export type FrontKind = 'native' | 'node';

export interface FrontOptions {
  /** Largest request head (request line and fields) in bytes; over it the answer is 431. */
  maxHeaderBytes: number;
  /** From a request's first byte to the end of its head. */
  headerTimeoutMs: number;
  /** From a request's first byte to the end of its body. */
  requestTimeoutMs: number;
  /** How long a connection may wait idle for its next request. */
  keepAliveTimeoutMs: number;
  /** Each request, in order per connection, once the ones before it were answered. */
  onExchange: (ex: ClientExchange) => void;
  /** A request id for podgate's own error answers. */
  requestId: () => string;
  onParseError?: (code: string, id: string) => void;
}

export interface Front {
  readonly kind: FrontKind;
  listen(host: string, port: number): Promise<AddressInfo>;
  readonly address: AddressInfo | null;
  /**
   * Stops accepting; connections close as their last response ends, and whatever is left after
   * `graceMs` is cut.
   */
  close(graceMs: number): Promise<void>;
}

/** The whole 4xx for a request the parser refused (`code`: llhttp's, HPE_...). */
export function parseErrorReply(options: FrontOptions, code: string): string {
  const id = options.requestId();
  options.onParseError?.(code, id);
  if (code === 'HPE_HEADER_OVERFLOW') return rawClientError('PODGATE_HEADER_TOO_LARGE', 'request header block is too large', id);
  return rawClientError('PODGATE_BAD_REQUEST', `malformed request (${code})`, id);
}

/** The whole 400 for a request podgate's own framing rules refused. */
export function badFramingReply(options: FrontOptions, message: string): string {
  const id = options.requestId();
  options.onParseError?.('PODGATE_BAD_FRAMING', id);
  return rawClientError('PODGATE_BAD_REQUEST', message, id);
}

/** The whole 408 for a client too slow to send its request. */
export function requestTimeoutReply(options: FrontOptions): string {
  return rawClientError('PODGATE_REQUEST_TIMEOUT', 'client took too long to send the request', options.requestId());
}
