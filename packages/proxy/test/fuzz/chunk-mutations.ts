import type { Mutation } from './head-mutations.js';
import type { Prng } from './prng.js';
import type { ChunkDraft, ChunkedDraft, RequestDraft } from './request-draft.js';
import { EVIL_HOST, marker } from './valid-requests.js';

/*
 * Changes to a chunked body (RFC 9112 §7.1): chunk sizes, extensions, line ends and the trailer
 * section. Trailers are where the leak this suite was written for came from: their fields were
 * joined onto the next request's head. As in head-mutations.ts, what the bytes mean is left to
 * reference-reading.ts.
 */

function chunkedOf(d: RequestDraft): ChunkedDraft | null {
  return d.body.kind === 'chunked' ? d.body.chunked : null;
}

function someChunk(rng: Prng, c: ChunkedDraft): ChunkDraft | null {
  return c.chunks.length === 0 ? null : rng.pick(c.chunks);
}

/** The request's case and position, read back from its marker (`m<case>r<k>x`). */
function trailerMarker(d: RequestDraft): string {
  const m = /^m(\d+)r(\d+)x$/.exec(d.marker);
  return m === null ? `${d.marker}t` : marker(Number(m[1]), Number(m[2]), 't');
}

export const CHUNK_MUTATIONS: Record<string, Mutation> = {
  // RFC 9112 §7.1: chunk-size = 1*HEXDIG, so leading zeros and either case are valid.
  chunkSizeLeadingZeros(rng, d) {
    const chunk = chunkedOf(d) === null ? null : someChunk(rng, chunkedOf(d) as ChunkedDraft);
    if (chunk === null) return null;
    chunk.size = '0'.repeat(rng.pick([1, 3, 20])) + chunk.size;
    return `chunk size ${JSON.stringify(chunk.size)}`;
  },
  chunkSizeCase(rng, d) {
    const chunk = chunkedOf(d) === null ? null : someChunk(rng, chunkedOf(d) as ChunkedDraft);
    if (chunk === null) return null;
    chunk.size = rng.chance(0.5) ? chunk.size.toUpperCase() : chunk.size.toLowerCase();
    return `chunk size ${JSON.stringify(chunk.size)}`;
  },
  // RFC 9112 §7.1: "recipients MUST anticipate potentially large hexadecimal numerals and prevent
  // parsing errors due to integer conversion overflows or precision loss".
  chunkSizeHuge(rng, d) {
    const chunk = chunkedOf(d) === null ? null : someChunk(rng, chunkedOf(d) as ChunkedDraft);
    if (chunk === null) return null;
    chunk.size = rng.pick(['fffffffffffffffffff', '10000000000000000', 'ffffffffffffffff', '7fffffff', '100000', '1001']);
    return `chunk size ${JSON.stringify(chunk.size)} over ${chunk.data.length} data bytes`;
  },
  // A size that does not match the data: the rest is read as framing, or the next request as data.
  chunkSizeWrong(rng, d) {
    const chunk = chunkedOf(d) === null ? null : someChunk(rng, chunkedOf(d) as ChunkedDraft);
    if (chunk === null) return null;
    const n = Math.max(0, chunk.data.length + rng.pick([-3, -2, -1, 1, 2, 5, 40]));
    chunk.size = n.toString(16);
    return `chunk size ${n} for ${chunk.data.length} data bytes`;
  },
  // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ); unknown ones ignored.
  chunkExtension(rng, d) {
    const c = chunkedOf(d);
    if (c === null) return null;
    const ext = rng.pick([';a=b', ';a', ';a="q v"', ';a=b;c=d', `;m=${d.marker}`, ';a="x\\"y"', ' ;a=b', '; a', ';a = b', ';', ';a=']);
    const chunk = someChunk(rng, c);
    if (chunk === null || rng.chance(0.3)) c.last += ext;
    else chunk.ext = ext;
    return `chunk extension ${JSON.stringify(ext)}`;
  },
  // last-chunk = 1*("0").
  lastChunkZeros(rng, d) {
    const c = chunkedOf(d);
    if (c === null) return null;
    c.last = '0'.repeat(rng.int(2, 5));
    return `last chunk ${JSON.stringify(c.last)}`;
  },
  chunkBareLf(rng, d) {
    const c = chunkedOf(d);
    if (c === null) return null;
    const chunk = someChunk(rng, c);
    const where = rng.int(0, 3);
    if (chunk !== null && where === 0) chunk.lineEol = '\n';
    else if (chunk !== null && where === 1) chunk.dataEol = '\n';
    else if (where === 2) c.lastEol = '\n';
    else c.endEol = '\n';
    return `bare LF in chunked framing (${where})`;
  },
  // RFC 9112 §7.1.2 / RFC 9110 §6.5.1: trailers that would change routing, framing or identity if
  // they were ever merged into a head. podgate drops request trailers.
  hostileTrailers(rng, d) {
    const c = chunkedOf(d);
    if (c === null) return null;
    const t = trailerMarker(d);
    const pool = [
      `Cookie: session=attacker-${t}`,
      `Host: ${EVIL_HOST}`,
      'Content-Length: 999',
      'Transfer-Encoding: chunked',
      `X-Trailer: ${t}`,
      `X-Fuzz: ${t}`,
    ];
    for (let i = rng.int(1, 3); i > 0; i--) {
      c.trailers.push(rng.pick(pool));
      c.trailerEols.push('\r\n');
    }
    return `trailers ${JSON.stringify(c.trailers)}`;
  },
  // Trailer lines are field lines: the head's rules hold for them too (RFC 9112 §7.1.2, §5).
  badTrailer(rng, d) {
    const c = chunkedOf(d);
    if (c === null) return null;
    const t = trailerMarker(d);
    const bad = rng.pick([`X-Trailer : ${t}`, `X-Trailer: ${t}\r\n folded`, `X-Trailer: a\rb-${t}`, `: ${t}`]);
    c.trailers.push(bad);
    c.trailerEols.push(rng.chance(0.2) ? '\n' : '\r\n');
    return `bad trailer ${JSON.stringify(bad)}`;
  },
};
