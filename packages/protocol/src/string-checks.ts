/*
 * The checks of the config's string keys that need no Node API, written once for the config loader,
 * the admin API and the dashboard's add-service form. Each returns the normalised value or the
 * reason in a phrase that follows the key's name (`dnsName: must be a DNS name …`).
 */

/** A value check for a string key: the normalised value, or the reason it is rejected. */
export type StringCheck<T> = (text: string) => { value: T } | { error: string };

// RFC 1123 §2.1: a label is a-z, 0-9 and '-', 1-63 characters, not starting or ending with '-'.
const LABEL_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const LABEL_MAX = 63;
// RFC 1035 §2.3.4: 255 octets on the wire are 253 characters as text.
const NAME_MAX = 253;

/** The longest service name: a service name is one DNS label (it names Prometheus series and URLs too). */
export const SERVICE_NAME_MAX = LABEL_MAX;

/** RFC 1123 host name: labels of 1-63 chars, 253 chars in all, an optional final dot. Lower case only. */
export function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > NAME_MAX) return false;
  return bare.split('.').every((label) => label.length <= LABEL_MAX && LABEL_RE.test(label));
}

export function isServiceName(name: string): boolean {
  return name.length <= SERVICE_NAME_MAX && LABEL_RE.test(name);
}

export const checkServiceName: StringCheck<string> = (text) =>
  isServiceName(text) ? { value: text } : { error: "must be an RFC 1123 label (a-z, 0-9, '-', ≤ 63 chars)" };

export const checkDnsName: StringCheck<string> = (text) => {
  const name = text.toLowerCase();
  if (isDnsName(name)) return { value: name };
  return { error: `must be a DNS name (labels of a-z, 0-9, '-', 1-63 chars), got ${JSON.stringify(text)}` };
};

/** Host header to route on: lower case, no port, no wildcard. */
export const checkRouteHost: StringCheck<string> = (text) => {
  if (text.includes('*')) return { error: 'wildcards are not supported (list each host)' };
  if (text.includes(':')) return { error: 'must not include a port (routes match the Host header without it)' };
  const host = text.toLowerCase().replace(/\.$/, '');
  if (isDnsName(host)) return { value: host };
  return { error: `must be a host name (labels of a-z, 0-9, '-', 1-63 chars), got ${JSON.stringify(text)}` };
};

export const checkPathPrefix: StringCheck<string> = (text) => {
  if (!text.startsWith('/')) return { error: `must start with "/", got ${JSON.stringify(text)}` };
  if (/[\s?#]/.test(text)) return { error: 'must be a path without spaces, query or fragment' };
  return { value: text };
};

/** An HTTP path for return probes, or empty for a TCP connect. */
export const checkProbePath: StringCheck<string> = (text) => {
  if (text === '' || /^\/[\x21-\x7e]*$/.test(text)) return { value: text };
  return { error: `must be empty (TCP probe) or a path starting with / without spaces, got ${JSON.stringify(text)}` };
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

export const checkNonEmpty: StringCheck<string> = (text) => (text.trim() === '' ? { error: 'must not be empty' } : { value: text });

/**
 * A Redis URL (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS), or empty for
 * none. The reason never repeats the URL: it may carry a password.
 */
export const checkRedisUrl: StringCheck<string> = (text) => {
  if (text === '') return { value: '' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: 'must be a URL like redis://host:6379/0' };
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return { error: `must start with redis:// or rediss://, not ${url.protocol}//` };
  if (url.hostname === '') return { error: 'must name a host (redis://host:6379/0)' };
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d{1,2}$/.test(url.pathname)) return { error: 'may end only with a database number (/0 to /99)' };
  if (url.search !== '' || url.hash !== '') return { error: 'must not carry a query or fragment' };
  return { value: text };
};

export const checkFleetName: StringCheck<string> = (text) =>
  isServiceName(text) ? { value: text } : { error: "must be an RFC 1123 label (a-z, 0-9, '-', ≤ 63 chars)" };

/** A Redis URL with its password replaced, for logs and the API. */
export function redactRedisUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}
