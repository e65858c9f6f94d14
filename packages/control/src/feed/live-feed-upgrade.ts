import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import { isLoopbackHost } from '@podgate/config';
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

// The names a browser on the admin host may use for a loopback listener: it resolves `localhost`
// itself (RFC 6761), the others are literals. No DNS answer can make a page's origin one of them.
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/**
 * A host as URL parsing spells it, without brackets: lower case, IPv6 compressed, an
 * IPv4-mapped IPv6 address as IPv4 (how node reports a v4 client on a dual-stack socket).
 * Null for something that is not a host.
 */
function canonicalHost(host: string): string | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  // Only host characters, so something like `a@evil.example` cannot parse as another host.
  if (!isIPv6(bare) && !/^[A-Za-z0-9.-]+$/.test(bare)) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${isIPv6(bare) ? `[${bare}]` : bare}/`).hostname;
  } catch {
    return null;
  }
  const unbracketed = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(unbracketed);
  if (mapped?.[1] !== undefined) return mapped[1];
  // URL parsing writes a mapped address in hex (::ffff:7f00:1): back to the dotted form.
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(unbracketed);
  if (hex?.[1] !== undefined && hex[2] !== undefined) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return unbracketed;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

/**
 * Whether a browser on `Origin` may open the feed. A request without Origin comes from a
 * non-browser client (curl, a script), which cross-site WebSocket hijacking cannot involve.
 *
 * Otherwise the Origin must be in `allowed`, or be the admin address itself: `http:`, the port
 * the request came in on, and as host the configured admin host (`adminHost`, from
 * `admin.listen`; not a wildcard), the IP address the request came in on (an IP literal no DNS
 * answer can take over), or, when either of those is loopback, `localhost`, `127.0.0.1` or
 * `[::1]` (what a browser on this host shows for the dashboard the admin server serves).
 *
 * The Host header is not consulted: a page on another name that resolves to the admin address
 * (DNS rebinding) sends its own name in both Host and Origin, and must be refused.
 */
export function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>, adminHost?: string): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null" of sandboxed frames and file: pages
  }
  if (allowed.has(parsed.origin)) return true;
  // The admin server speaks plain HTTP: a page of its own is an http: page.
  if (parsed.protocol !== 'http:' || parsed.origin !== origin.toLowerCase()) return false;
  const port = parsed.port === '' ? 80 : Number(parsed.port);
  if (port !== req.socket.localPort) return false;
  const host = canonicalHost(parsed.hostname);
  if (host === null) return false;
  return sameOriginHosts(req.socket.localAddress, adminHost).has(host);
}

/** The hosts by which a browser reaches this listener without DNS choosing where it goes (or by the configured name). */
function sameOriginHosts(localAddress: string | undefined, adminHost: string | undefined): Set<string> {
  const hosts = new Set<string>();
  let loopback = false;
  for (const h of [adminHost, localAddress]) {
    if (h === undefined || h === '') continue;
    const canonical = canonicalHost(h);
    if (canonical === null || WILDCARD_HOSTS.has(canonical)) continue;
    hosts.add(canonical);
    if (isLoopbackHost(canonical)) loopback = true;
  }
  if (loopback) for (const name of LOOPBACK_NAMES) hosts.add(name);
  return hosts;
}

/** The path of a request target, without the query (which may carry a token). */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
