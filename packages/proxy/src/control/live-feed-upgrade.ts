import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Stable codes of the plain HTTP answers the live feed gives to an upgrade it refuses. */
export type FeedRefusalCode = 'PODGATE_NOT_FOUND' | 'PODGATE_UNAUTHORIZED' | 'PODGATE_FORBIDDEN' | 'PODGATE_UNAVAILABLE' | 'PODGATE_INTERNAL';

const STATUS_OF: Record<FeedRefusalCode, number> = {
  PODGATE_NOT_FOUND: 404,
  PODGATE_UNAUTHORIZED: 401,
  PODGATE_FORBIDDEN: 403,
  PODGATE_UNAVAILABLE: 503,
  PODGATE_INTERNAL: 500,
};

/**
 * Answers an upgrade request with a plain HTTP error and closes the connection. The body names
 * the cause in one line and nothing more: no hint about which token or origin was expected.
 */
export function refuseUpgrade(socket: Duplex, code: FeedRefusalCode, message: string): void {
  // The client may already be gone; a reset here must not reach the process.
  socket.on('error', () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = STATUS_OF[code];
  const body = JSON.stringify({ error: code, message });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
  ];
  // RFC 9110 §15.5.2: a 401 carries the scheme the client should use.
  if (status === 401) head.push('WWW-Authenticate: Bearer');
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/** `allowedOrigins` as serialized origins (`scheme://host[:port]`), so comparison is exact. Throws on one that is not a URL. */
export function normalizeOrigins(origins: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const origin of origins) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new TypeError(`invalid allowedOrigins entry ${JSON.stringify(origin)}: not a URL`);
    }
    out.add(parsed.origin);
  }
  return out;
}

const HOST_HEADER = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * Whether a browser on `Origin` may open the feed. A request without Origin comes from a
 * non-browser client (curl, a script), which cross-site WebSocket hijacking cannot involve.
 * Same-origin means the Origin's host:port equals the Host header, compared after URL
 * normalization (case, default port of the Origin's scheme).
 */
export function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null" of sandboxed frames and file: pages
  }
  if (allowed.has(parsed.origin)) return true;
  const host = req.headers.host;
  // Only host[:port] characters, so a Host like `a@evil.example` cannot parse as another host.
  if (host === undefined || !HOST_HEADER.test(host)) return false;
  try {
    return new URL(`${parsed.protocol}//${host}`).host === parsed.host;
  } catch {
    return false;
  }
}

/** The path of a request target, without the query (which may carry a token). */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
