/*
 * Request framing podgate refuses on top of llhttp's strict mode. llhttp (node's parser) reads
 * `Transfer-Encoding` itself, but takes an empty value as "no body", and a line it cannot read
 * ("\"chunked\"", "chunked junk") as harmless when a later line says `chunked`: a proxy in front
 * that reads the same bytes differently would then frame the body otherwise (RFC 9112 §6.3:
 * "a server MAY reject a request that contains a message body but not a Content-Length").
 */

/**
 * Why the request's Transfer-Encoding (every line of it, joined with ", ") cannot be read as one
 * final `chunked`, in one line; null when it can, or when there is none.
 *
 * RFC 9112 §6.1: chunked must be the final coding and applied once; podgate applies no other
 * coding (gzip, compress, deflate, identity), so it forwards none, and a body framed by a coding
 * it does not remove would reach the pod still encoded. nginx answers these 501; podgate answers
 * 400, as llhttp does for the ones it refuses itself, so the answer does not depend on which
 * line of the head was read first.
 */
export function framingProblem(transferEncoding: string | undefined): string | null {
  if (transferEncoding === undefined) return null;
  if (isLoneChunked(transferEncoding)) return null;
  return `unsupported Transfer-Encoding ${JSON.stringify(transferEncoding)}: only a single "chunked" is accepted`;
}

const CHUNKED = 'chunked';

/** `chunked`, any case, with optional whitespace (RFC 9110 §5.6.3 OWS) around it and nothing else. */
function isLoneChunked(value: string): boolean {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  if (end - start !== CHUNKED.length) return false;
  for (let i = 0; i < CHUNKED.length; i++) {
    // ASCII letters only: OR 0x20 lower-cases them, and maps nothing else onto them.
    if ((value.charCodeAt(start + i) | 0x20) !== CHUNKED.charCodeAt(i)) return false;
  }
  return true;
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * A `close` connection option llhttp missed: it keeps the connection alive for `keep-alive, close`
 * on HTTP/1.0 and for `close` followed by a tab. RFC 9112 §9.6: after a request with close, the
 * server reads no further request. Most requests name no close, and are read without a split.
 */
export function asksToClose(connection: string | undefined): boolean {
  if (connection === undefined || !CLOSE.test(connection)) return false;
  for (const option of connection.split(',')) {
    // trim(): OWS is spaces and tabs (RFC 9110 §5.6.3).
    if (option.trim().toLowerCase() === 'close') return true;
  }
  return false;
}

const CLOSE = /close/i;
