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
 * Lengths of the names a header list is filtered by (hop-by-hop, what podgate rewrites): a name of
 * any other length passes without being lower-cased (no string made for Date, Content-Type, ...).
 */
const HOP_BY_HOP_LENGTHS = lengthsOf(HOP_BY_HOP, null);
const lengthsByDrop = new WeakMap<ReadonlySet<string>, Uint8Array>();

function lengthsOf(names: ReadonlySet<string>, also: Uint8Array | null): Uint8Array {
  const lengths = also === null ? new Uint8Array(256) : also.slice();
  for (const name of names) if (name.length < lengths.length) lengths[name.length] = 1;
  return lengths;
}

function filteredLengths(drop: ReadonlySet<string> | null): Uint8Array {
  if (drop === null) return HOP_BY_HOP_LENGTHS;
  let lengths = lengthsByDrop.get(drop);
  if (lengths === undefined) {
    lengths = lengthsOf(drop, HOP_BY_HOP_LENGTHS);
    lengthsByDrop.set(drop, lengths);
  }
  return lengths;
}

/**
 * Copies a flat raw header list ([name, value, name, value, ...]) without hop-by-hop fields, the
 * fields Connection names, and any name in `drop` (lower case). Names keep their original case.
 * Appends to `out`; with `out === raw` the list is filtered in place.
 */
export function forwardableHeaders(
  raw: readonly string[],
  connection: string | undefined,
  drop: ReadonlySet<string> | null,
  out: string[] = [],
): string[] {
  const named = connectionTokens(connection);
  const filtered = filteredLengths(drop);
  const n = raw.length;
  // In place, the write index never passes the read index.
  let w = out === raw ? 0 : out.length;
  for (let i = 0; i < n; i += 2) {
    const name = raw[i] as string;
    // A name longer than any filtered one (255) is lower-cased and looked up like the rest.
    if (named !== null || name.length >= filtered.length || filtered[name.length] === 1) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower)) || (drop !== null && drop.has(lower))) continue;
    }
    out[w++] = name;
    out[w++] = raw[i + 1] as string;
  }
  out.length = w;
  return out;
}
