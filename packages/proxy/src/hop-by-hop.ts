// RFC 9110 §7.6.1: connection-specific header fields are for one hop only and must not be
// forwarded; nor must the fields the Connection header names. Proxy-Connection and Keep-Alive are
// the legacy ones every proxy strips. Expect is answered here (100-continue), never passed on.
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
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
export function connectionTokens(value: string | undefined): Set<string> | null {
  if (value === undefined || value === '') return null;
  // Nearly every message says one of these: no split, no Set (this runs for every request).
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

/** Header names to drop besides the hop-by-hop ones, made once (see headerDrop). */
export interface HeaderDrop {
  names: ReadonlySet<string>;
  /** 1 at each name length (< 256) that a dropped or hop-by-hop name has. */
  lengths: Uint8Array;
}

/**
 * Names (lower case) to drop from a header list as well as the hop-by-hop ones. A name of a
 * length no dropped name has passes without being lower-cased (no string made for Date,
 * Content-Type, ...).
 */
export function headerDrop(names: readonly string[]): HeaderDrop {
  const lengths = new Uint8Array(256);
  for (const name of [...HOP_BY_HOP, ...names]) if (name.length < lengths.length) lengths[name.length] = 1;
  return { names: new Set(names), lengths };
}

/**
 * Copies a flat raw header list ([name, value, name, value, ...]) without hop-by-hop fields, the
 * fields Connection names, and those `drop` names. Names keep their original case.
 */
export function forwardableHeaders(raw: readonly string[], connection: string | undefined, drop: HeaderDrop): string[] {
  const named = connectionTokens(connection);
  const filtered = drop.lengths;
  const dropped = drop.names;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    // A name longer than any filtered one (255) is lower-cased and looked up like the rest.
    if (named !== null || name.length >= filtered.length || filtered[name.length] === 1) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower)) || dropped.has(lower)) continue;
    }
    out.push(name, raw[i + 1] as string);
  }
  return out;
}
