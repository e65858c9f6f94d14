import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

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

  private constructor(
    private readonly buffered: Buffer | null,
    private stream: Readable | null,
    private readonly length: number | null,
  ) {}

  static readonly NONE = new RequestBody(null, null, null);

  static buffer(body: Buffer): RequestBody {
    return new RequestBody(body, null, body.length);
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
  const onEnd = (): void => finish(null, RequestBody.buffer(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
  const onError = (err: Error): void => finish(err, RequestBody.NONE);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}
