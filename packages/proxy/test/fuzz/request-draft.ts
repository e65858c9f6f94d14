/*
 * A request as the generator builds it before it becomes bytes: lines kept apart from their line
 * ends, so a mutation can change one line end (bare LF), one field line (space before the colon)
 * or one chunk-size line without re-parsing anything. The generator never decides what the bytes
 * mean: reference-reading.ts reads the serialized bytes on its own.
 */

export const CRLF = '\r\n';

export interface ChunkDraft {
  /** The chunk-size text as sent (hex, any case, maybe with leading zeros). */
  size: string;
  /** Chunk extensions as sent, e.g. `;a=b` (RFC 9112 §7.1.1). */
  ext: string;
  data: string;
  /** After the size line, and after the data. */
  lineEol: string;
  dataEol: string;
}

export interface ChunkedDraft {
  chunks: ChunkDraft[];
  /** last-chunk = 1*"0" [ chunk-ext ] (RFC 9112 §7.1). */
  last: string;
  lastEol: string;
  /** Trailer field lines, without their line ends (RFC 9112 §7.1.2). */
  trailers: string[];
  trailerEols: string[];
  endEol: string;
}

export type BodyDraft = { kind: 'none' } | { kind: 'raw'; data: string } | { kind: 'chunked'; chunked: ChunkedDraft };

export interface RequestDraft {
  /** This request's marker, in its target, a header value and its body. */
  marker: string;
  /** The request line, then the field lines, without line ends. */
  lines: string[];
  /** The line end after each line of `lines`, then the one of the empty line ending the head. */
  eols: string[];
  body: BodyDraft;
}

export function newDraft(marker: string, requestLine: string, fields: readonly (readonly [string, string])[]): RequestDraft {
  const lines = [requestLine, ...fields.map(([name, value]) => `${name}: ${value}`)];
  return { marker, lines, eols: lines.map(() => CRLF).concat(CRLF), body: { kind: 'none' } };
}

/** Index in `lines` of the first field line named `name` (any case), or -1. */
export function findField(d: RequestDraft, name: string): number {
  const lower = name.toLowerCase();
  for (let i = 1; i < d.lines.length; i++) {
    const line = d.lines[i] as string;
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === lower) return i;
  }
  return -1;
}

/** Adds a field line at `at` (default: the end of the head). */
export function addField(d: RequestDraft, line: string, at = d.lines.length): void {
  d.lines.splice(at, 0, line);
  d.eols.splice(at, 0, CRLF);
}

export function removeField(d: RequestDraft, name: string): void {
  for (let i = findField(d, name); i !== -1; i = findField(d, name)) {
    d.lines.splice(i, 1);
    d.eols.splice(i, 1);
  }
}

export function setField(d: RequestDraft, name: string, value: string): void {
  const i = findField(d, name);
  if (i === -1) addField(d, `${name}: ${value}`);
  else d.lines[i] = `${name}: ${value}`;
}

/** A chunked body of `data` cut in `sizes` pieces (their sum is data's length). */
export function chunkedOf(data: string, sizes: readonly number[]): ChunkedDraft {
  const chunks: ChunkDraft[] = [];
  let at = 0;
  for (const n of sizes) {
    chunks.push({ size: n.toString(16), ext: '', data: data.slice(at, at + n), lineEol: CRLF, dataEol: CRLF });
    at += n;
  }
  return { chunks, last: '0', lastEol: CRLF, trailers: [], trailerEols: [], endEol: CRLF };
}

export function serializeBody(body: BodyDraft): string {
  if (body.kind === 'none') return '';
  if (body.kind === 'raw') return body.data;
  const c = body.chunked;
  let out = '';
  for (const chunk of c.chunks) out += chunk.size + chunk.ext + chunk.lineEol + chunk.data + chunk.dataEol;
  out += c.last + c.lastEol;
  c.trailers.forEach((line, i) => {
    out += line + (c.trailerEols[i] ?? CRLF);
  });
  return out + c.endEol;
}

export function serialize(d: RequestDraft): string {
  let out = '';
  d.lines.forEach((line, i) => {
    out += line + (d.eols[i] ?? CRLF);
  });
  out += d.eols[d.lines.length] ?? CRLF;
  return out + serializeBody(d.body);
}
