import type { Framing } from './rfc9112-framing.js';
import { isToken, parseFieldLine, readLine } from './rfc9112-lines.js';

/*
 * A request body as RFC 9112 §6 and §7.1 read it, for the reference reading: exactly
 * Content-Length bytes, or chunks up to the last chunk and the trailer section. Trailer fields are
 * checked (they are field lines, RFC 9112 §7.1.2) and then dropped, as podgate drops them.
 */

export type BodyRead =
  | { kind: 'done'; body: string; next: number; either: string[] }
  /** `body`: what was decoded before the problem (a pod may have been streamed that much). */
  | { kind: 'refuse' | 'stop'; body: string; why: string };

const MAX_CHUNK_SIZE = 2n ** 64n - 1n;

export function readBody(s: string, at: number, framing: Framing, maxBodyBytes: number): BodyRead {
  if (framing.kind === 'none') return { kind: 'done', body: '', next: at, either: [] };
  if (framing.kind === 'length') {
    if (s.length - at < framing.length) return { kind: 'stop', body: s.slice(at), why: `the bytes end before Content-Length ${framing.length}` };
    return { kind: 'done', body: s.slice(at, at + framing.length), next: at + framing.length, either: [] };
  }
  return readChunked(s, at, maxBodyBytes);
}

function readChunked(s: string, at: number, maxBodyBytes: number): BodyRead {
  let body = '';
  let p = at;
  const either: string[] = [];
  for (;;) {
    const line = readLine(s, p);
    if (line.kind === 'short') return { kind: 'stop', body, why: 'the bytes end inside a chunk-size line' };
    if (line.kind === 'bad') return { kind: 'refuse', body, why: `chunk-size line: ${line.why}` };
    // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; chunk-size = 1*HEXDIG.
    const m = /^([0-9A-Fa-f]+)(.*)$/.exec(line.text);
    if (m === null) return { kind: 'refuse', body, why: `chunk-size ${JSON.stringify(line.text)} is not 1*HEXDIG (RFC 9112 §7.1)` };
    const size = BigInt(`0x${m[1] as string}`);
    // RFC 9112 §7.1: recipients MUST prevent integer overflow; a size past 64 bits cannot be read.
    if (size > MAX_CHUNK_SIZE) return { kind: 'refuse', body, why: `chunk-size ${m[1] as string} overflows 64 bits (RFC 9112 §7.1)` };
    const ext = extensionProblem(m[2] as string);
    // RFC 9112 §7.1.1: extensions are ignored; a malformed one leaves the framing unambiguous (the
    // size is read, the rest of the line dropped), so taking or refusing it are both safe.
    if (ext !== null) either.push(`chunk extension ${JSON.stringify(m[2])}: ${ext}`);
    p = line.next;
    if (size === 0n) return readTrailers(s, p, body, either);
    if (BigInt(body.length) + size > BigInt(maxBodyBytes)) return { kind: 'stop', body, why: `chunks over podgate's max body ${maxBodyBytes}` };
    const n = Number(size);
    if (s.length - p < n) return { kind: 'stop', body: body + s.slice(p), why: `the bytes end inside a ${n}-byte chunk` };
    body += s.slice(p, p + n);
    p += n;
    const after = s.slice(p, p + 2);
    if (after !== '\r\n') {
      if (s.length - p < 2 && '\r\n'.startsWith(after)) return { kind: 'stop', body, why: 'the bytes end before the CRLF after chunk data' };
      return { kind: 'refuse', body, why: `chunk data followed by ${JSON.stringify(after)}, not CRLF (RFC 9112 §7.1)` };
    }
    p += 2;
  }
}

/** RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), then the CRLF ending the message. */
function readTrailers(s: string, at: number, body: string, either: string[]): BodyRead {
  let p = at;
  for (;;) {
    const line = readLine(s, p);
    if (line.kind === 'short') return { kind: 'stop', body, why: 'the bytes end inside the trailer section' };
    if (line.kind === 'bad') return { kind: 'refuse', body, why: `trailer section: ${line.why}` };
    if (line.text === '') return { kind: 'done', body, next: line.next, either };
    const field = parseFieldLine(line.text);
    if (field.kind === 'bad') return { kind: 'refuse', body, why: `trailer field: ${field.why}` };
    p = line.next;
  }
}

/**
 * Why `text` is not chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ) with no BWS (RFC 9112
 * §7.1.1), or null. BWS is grammatical but llhttp refuses it; both count as "either".
 */
function extensionProblem(text: string): string | null {
  let i = 0;
  const ws = (): boolean => {
    const from = i;
    while (text[i] === ' ' || text[i] === '\t') i++;
    return i > from;
  };
  while (i < text.length) {
    if (ws()) return 'bad whitespace (BWS)';
    if (text[i] !== ';') return 'no ";"';
    i++;
    if (ws()) return 'bad whitespace (BWS)';
    const name = /^[^=;\s]*/.exec(text.slice(i))?.[0] ?? '';
    if (!isToken(name)) return 'name is not a token';
    i += name.length;
    if (text[i] === ' ' || text[i] === '\t') return 'bad whitespace (BWS)';
    if (text[i] !== '=') continue;
    i++;
    if (text[i] === '"') {
      const end = quotedStringEnd(text, i);
      if (end < 0) return 'unterminated quoted-string';
      i = end;
    } else {
      const value = /^[^;\s]*/.exec(text.slice(i))?.[0] ?? '';
      if (!isToken(value)) return 'value is not a token';
      i += value.length;
    }
  }
  return null;
}

/** RFC 9110 §5.6.4: the index after the quoted-string starting at `at`, or -1. */
function quotedStringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      i++;
      continue;
    }
    if (c !== 0x09 && (c < 0x20 || c === 0x7f)) return -1;
  }
  return -1;
}
