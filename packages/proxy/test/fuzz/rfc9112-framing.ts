import { isValidHost } from './rfc9112-lines.js';

/*
 * What a request head means for the connection, per RFC 9112 §6 (message body length), §3.2
 * (Host) and §9 (persistence), for the reference reading. Where the RFC lets a server choose, the
 * reading takes podgate's documented rule and says so; where it lets a server choose and podgate's
 * rule does not settle it, the request is "either" (forwarded exactly as read, or refused).
 */

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export type HeadMeaning = { kind: 'ok'; framing: Framing; host: string; closeAfter: boolean; either: string[] } | { kind: 'refuse'; why: string };

export interface FramingLimits {
  /** Largest body podgate takes (raw-client.ts MAX_BODY_BYTES): a larger declared one is refused. */
  maxBodyBytes: number;
}

function values(fields: readonly (readonly [string, string])[], name: string): string[] {
  return fields.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/** RFC 9110 §5.6.1: a list field's elements, over all its lines; empty elements kept (as ''). */
function listElements(lines: readonly string[]): string[] {
  return lines.flatMap((line) => line.split(',')).map((e) => e.trim());
}

export function headMeaning(minor: number, fields: readonly (readonly [string, string])[], limits: FramingLimits): HeadMeaning {
  const either: string[] = [];
  // RFC 9112 §3.2: 400 for no Host (HTTP/1.1), more than one, or an invalid one. podgate routes by
  // Host and forwards as HTTP/1.1, so it requires one of HTTP/1.0 requests too.
  const hosts = values(fields, 'host');
  if (hosts.length !== 1) return { kind: 'refuse', why: `${hosts.length} Host lines (RFC 9112 §3.2: exactly one; podgate: also for HTTP/1.0)` };
  const host = hosts[0] as string;
  if (!isValidHost(host)) return { kind: 'refuse', why: `invalid Host ${JSON.stringify(host)} (RFC 9112 §3.2)` };

  const te = values(fields, 'transfer-encoding');
  const cl = values(fields, 'content-length');
  let framing: Framing = { kind: 'none' };
  if (te.length > 0) {
    // RFC 9112 §6.1: "A server ... that receives an HTTP/1.0 message containing a Transfer-Encoding
    // header field MUST treat the message as if the framing is faulty" (podgate: 400).
    if (minor === 0) return { kind: 'refuse', why: 'Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1; podgate refuses)' };
    // RFC 9112 §6.3 item 3: both is a smuggling sign that "ought to be handled as an error" (podgate: 400).
    if (cl.length > 0) return { kind: 'refuse', why: 'Content-Length with Transfer-Encoding (RFC 9112 §6.3 item 3; podgate refuses)' };
    const elements = listElements(te);
    const codings = elements.filter((e) => e !== '');
    // RFC 9112 §6.3 item 4: chunked not final → 400; §6.1: chunked at most once. podgate applies no
    // other coding, so exactly one `chunked` (case-insensitive, RFC 9112 §7) is all it takes.
    if (codings.length !== 1 || (codings[0] as string).toLowerCase() !== 'chunked') {
      return { kind: 'refuse', why: `Transfer-Encoding ${JSON.stringify(te)} is not a single chunked (RFC 9112 §6.1, §6.3 item 4; podgate's rule)` };
    }
    // RFC 9110 §5.6.1.2: a recipient MUST ignore empty list elements; podgate's "exactly one
    // chunked" may count them: both answers keep the framing unambiguous.
    if (elements.length !== codings.length) either.push(`Transfer-Encoding ${JSON.stringify(te)} has empty list elements (RFC 9110 §5.6.1.2)`);
    framing = { kind: 'chunked' };
  } else if (cl.length > 0) {
    // RFC 9110 §8.6 lets a recipient take equal duplicates as one; podgate refuses any second line.
    if (cl.length > 1) return { kind: 'refuse', why: `${cl.length} Content-Length lines (RFC 9110 §8.6; podgate refuses)` };
    const value = cl[0] as string;
    // RFC 9112 §6.3 item 5: Content-Length = 1*DIGIT; an invalid one is an unrecoverable error.
    if (!/^[0-9]+$/.test(value)) return { kind: 'refuse', why: `Content-Length ${JSON.stringify(value)} is not 1*DIGIT (RFC 9112 §6.3 item 5)` };
    const length = Number(value);
    if (length > limits.maxBodyBytes) return { kind: 'refuse', why: `Content-Length ${value} over podgate's max body ${limits.maxBodyBytes} (413)` };
    framing = { kind: 'length', length };
  }
  // RFC 9112 §6.3 item 6: a request with neither has no body.

  // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive" (and, §9.6,
  // "close" wins: after it the server MUST NOT process further requests).
  const options = listElements(values(fields, 'connection')).map((t) => t.toLowerCase());
  const close = options.includes('close') || (minor === 0 && !options.includes('keep-alive'));
  return { kind: 'ok', framing, host, closeAfter: close, either };
}
