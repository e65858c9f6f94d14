import { isIP, isIPv4, isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';

/** A value check for a string key: the normalised value, or the reason it is rejected. */
export type StringCheck<T> = (text: string) => { value: T } | { error: string };

const LABEL_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** RFC 1123: labels of a-z, 0-9 and '-', 1-63 chars, not starting or ending with '-'; 253 chars in all. */
export function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  return bare.split('.').every((label) => label.length <= 63 && LABEL_RE.test(label));
}

export function isServiceName(name: string): boolean {
  return name.length <= 63 && LABEL_RE.test(name);
}

export const checkDnsName: StringCheck<string> = (text) => {
  const name = text.toLowerCase();
  if (isDnsName(name)) return { value: name };
  return { error: `${JSON.stringify(text)} is not a valid DNS name (labels of a-z, 0-9, '-', 1-63 chars)` };
};

const HOST_PORT_RE = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;

/** `host:port` or `[v6]:port` where the proxy listens. Port 0 picks a free port (tests use it). */
export const checkListen: StringCheck<{ host: string; port: number }> = (text) => {
  const m = HOST_PORT_RE.exec(text);
  const usage = `must be "host:port" (e.g. 127.0.0.1:8080 or [::1]:8080), got ${JSON.stringify(text)}`;
  if (!m) return { error: usage };
  const v6 = m[1];
  const host = v6 ?? m[2] ?? '';
  if (v6 !== undefined ? isIP(v6) !== 6 : isIP(host) === 0 && !isDnsName(host.toLowerCase())) return { error: usage };
  const port = Number(m[3]);
  if (port > 65535) return { error: `port must be 0-65535, got ${port}` };
  return { value: { host: v6 !== undefined ? host : host.toLowerCase(), port } };
};

/** `auto` (one worker per core) or a count; 1 runs everything in one process. */
export const checkWorkers: StringCheck<number> = (text) => {
  if (text === 'auto') return { value: availableParallelism() };
  if (/^[0-9]+$/.test(text) && Number(text) >= 1 && Number(text) <= 64) return { value: Number(text) };
  return { error: `must be auto or a number of worker processes 1-64, got ${JSON.stringify(text)}` };
};

/** A bearer token: long enough not to be guessed, printable, no spaces. */
export const checkToken: StringCheck<string> = (text) => {
  // No comma: a browser sends the token inside Sec-WebSocket-Protocol, a comma-separated list.
  if (/^[\x21-\x2b\x2d-\x7e]{16,256}$/.test(text)) return { value: text };
  return { error: 'must be 16-256 printable characters without spaces or commas' };
};

/** An origin allowed to open the live feed from a browser, e.g. https://ops.example.com. */
export const checkOrigin: StringCheck<string> = (text) => {
  if (/^https?:\/\/[^/\s]+$/.test(text)) return { value: text.toLowerCase() };
  return { error: `must be an origin like https://ops.example.com (scheme and host, no path), got ${JSON.stringify(text)}` };
};

/** An HTTP path for return probes, or empty for a TCP connect. */
export const checkProbePath: StringCheck<string> = (text) => {
  if (text === '' || /^\/[\x21-\x7e]*$/.test(text)) return { value: text };
  return { error: `must be empty (TCP probe) or a path starting with / without spaces, got ${JSON.stringify(text)}` };
};

/** A directory path. */
export const checkPath: StringCheck<string> = (text) => (text.trim() === '' ? { error: 'must not be empty' } : { value: text });

// c-ares (node:dns Resolver#setServers) takes IP addresses only, so no names here.
/** `ip`, `ip:port`, `[v6]:port` or a bare v6 address → `ip:port` / `[v6]:port`, port 53 by default. */
export const checkNameserver: StringCheck<string> = (text) => {
  const error = `${JSON.stringify(text)} is not an IP address with an optional port (e.g. 127.0.0.1:53, [::1]:53)`;
  if (isIP(text) === 4) return { value: `${text}:53` };
  if (isIP(text) === 6) return { value: `[${text}]:53` };
  const m = HOST_PORT_RE.exec(text);
  if (!m) return { error };
  const port = Number(m[3]);
  if (m[1] !== undefined && isIP(m[1]) === 6 && port >= 1 && port <= 65535) return { value: `[${m[1]}]:${port}` };
  if (m[2] !== undefined && isIP(m[2]) === 4 && port >= 1 && port <= 65535) return { value: `${m[2]}:${port}` };
  return { error };
};

/** Host header to route on: lower case, no port, no wildcard. */
export const checkRouteHost: StringCheck<string> = (text) => {
  if (text.includes('*')) return { error: 'wildcards are not supported (list each host)' };
  if (text.includes(':')) return { error: 'must not include a port (routes match the Host header without it)' };
  const host = text.toLowerCase().replace(/\.$/, '');
  if (isDnsName(host)) return { value: host };
  return { error: `${JSON.stringify(text)} is not a valid host name` };
};

export const checkPathPrefix: StringCheck<string> = (text) => {
  if (!text.startsWith('/')) return { error: `must start with "/", got ${JSON.stringify(text)}` };
  if (/[\s?#]/.test(text)) return { error: 'must be a path without spaces, query or fragment' };
  return { value: text };
};

/** Whether `host` (a name, an IPv4 address, or an IPv6 address with or without brackets) is a loopback address or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!isIPv6(bare)) return false;
  const lower = bare.toLowerCase();
  if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  return lower.startsWith('::ffff:') && isIPv4(lower.slice(7)) && lower.slice(7).startsWith('127.');
}
