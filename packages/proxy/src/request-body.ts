import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { giveBodyBuffer, POOLED_MAX_BYTES, POOLED_MIN_BYTES, takeBodyBuffer } from './body-pool.js';

export class BodyTooLargeError extends Error {
  readonly code = 'PODGATE_BODY_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
  }
}

/**
 * A request body as the tries see it. Bodies up to the buffer size are held in memory and can be
 * replayed on any retry (nginx's proxy_request_buffering). Larger ones stream to the first peer and
 * can be retried only if that peer never started reading them (a connect-phase failure).
 */
export class RequestBody {
  private started = false;
  /** The reusable buffer the body was copied into (body-pool.ts); null once given back. */
  private pooled: Buffer | null = null;

  private constructor(
    private buffered: Buffer | null,
    private stream: Readable | null,
    private readonly length: number | null,
  ) {}

  static readonly NONE = new RequestBody(null, null, null);

  /** A body held in memory: bodies of POOLED_MIN_BYTES and more are copied into a reusable buffer. */
  static buffer(chunks: readonly Buffer[], size: number): RequestBody {
    if (size < POOLED_MIN_BYTES || size > POOLED_MAX_BYTES) {
      return new RequestBody(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size), null, size);
    }
    const pooled = takeBodyBuffer(size);
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(pooled, at);
    const body = new RequestBody(pooled.subarray(0, size), null, size);
    body.pooled = pooled;
    return body;
  }

  /**
   * Nothing reads the body any more (the request is over and no socket has any of it still to
   * send): its buffer may serve another request.
   */
  release(): void {
    const pooled = this.pooled;
    if (pooled === null) return;
    this.pooled = null;
    this.buffered = null;
    giveBodyBuffer(pooled);
  }

  /** Its memory must not be reused (a socket may still be sending it): the GC will free it. */
  keep(): void {
    this.pooled = null;
  }

  static streaming(head: Buffer[], req: IncomingMessage, headSize: number, max: number): RequestBody {
    const declared = req.headers['content-length'];
    const body: RequestBody = new RequestBody(null, null, declared === undefined ? null : Number(declared));
    const gen = async function* (): AsyncGenerator<Buffer> {
      body.started = true;
      for (const chunk of head) yield chunk;
      let size = headSize;
      // Not `for await (req)`: leaving that loop by the throw below destroys req, ProxyRequest then
      // takes the request for one whose client left and answers nothing, not the 413 of
      // RFC 9110 §15.5.14 (the client hung until the request timeout).
      for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > max) throw new BodyTooLargeError(max);
        yield chunk;
      }
    };
    body.stream = Readable.from(gen(), { objectMode: false });
    return body;
  }

  /** Content-Length to send upstream; null = none (no body) or chunked (streamed, unknown size). */
  contentLength(): number | null {
    return this.length;
  }

  forTry(): Buffer | Readable | null {
    return this.buffered ?? this.stream;
  }

  replayable(): boolean {
    return this.stream === null || !this.started;
  }
}

/** RFC 9112 §6.3: a request has a body when it says Content-Length or Transfer-Encoding. */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Reads a request body up to `bufferBytes` into memory. Calls back with the body, or with a
 * BodyTooLargeError when it is over `maxBytes` (declared or counted).
 */
export function readBody(
  req: IncomingMessage,
  bufferBytes: number,
  maxBytes: number,
  done: (err: Error | null, body: RequestBody) => void,
): void {
  const declared = req.headers['content-length'];
  if (!hasBody(req)) {
    done(null, RequestBody.NONE);
    return;
  }
  if (declared !== undefined && Number(declared) > maxBytes) {
    done(new BodyTooLargeError(maxBytes), RequestBody.NONE);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const finish = (err: Error | null, body: RequestBody): void => {
    if (settled) return;
    settled = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    done(err, body);
  };
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > maxBytes) {
      finish(new BodyTooLargeError(maxBytes), RequestBody.NONE);
      return;
    }
    chunks.push(chunk);
    if (size > bufferBytes) {
      req.pause();
      finish(null, RequestBody.streaming(chunks, req, size, maxBytes));
    }
  };
  const onEnd = (): void => finish(null, RequestBody.buffer(chunks, size));
  const onError = (err: Error): void => finish(err, RequestBody.NONE);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}
