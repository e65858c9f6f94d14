// RFC 9110 §7.6.1: connection-specific header fields are for one hop only and must not be
// forwarded; nor must the fields the Connection header names. Proxy-Connection and Keep-Alive are
// the legacy ones every proxy strips. Expect is answered here (100-continue), never passed on.
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'proxy-authorization',
  'proxy-authenticate',
]);

/** Header names listed in a Connection header value, lower case; null when there are none. */
function connectionTokens(value: string | undefined): Set<string> | null {
  if (value === undefined || value === '') return null;
  // Nearly every message says one of these: no split, no Set (this runs twice a request).
  if (value.length <= 10) {
    const v = value.toLowerCase();
    if (v === 'keep-alive' || v === 'close') return null;
  }
  const tokens = new Set<string>();
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase();
    // `Connection: host` must not strip Host: the pod would see its own address instead.
    if (t !== '' && t !== 'close' && t !== 'keep-alive' && t !== 'host') tokens.add(t);
  }
  return tokens.size === 0 ? null : tokens;
}

/**
 * Copies a flat raw header list ([name, value, name, value, ...]) without hop-by-hop fields, the
 * fields Connection names, and any name in `drop` (lower case). Names keep their original case.
 */
export function forwardableHeaders(
  raw: readonly string[],
  connection: string | undefined,
  drop: ReadonlySet<string> | null,
  out: string[] = [],
): string[] {
  const named = connectionTokens(connection);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower)) || (drop !== null && drop.has(lower))) continue;
    out.push(name, raw[i + 1] as string);
  }
  return out;
}
