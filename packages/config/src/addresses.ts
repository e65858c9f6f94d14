import { isIP, isIPv4, isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import { isDnsName, type StringCheck } from '@podgate/protocol';

// The string checks that need Node; the pure ones are @podgate/protocol's (string-checks.ts).

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
