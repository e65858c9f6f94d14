import type { Prng } from './prng.js';
import { addField, findField, removeField, setField, type RequestDraft } from './request-draft.js';
import { EVIL_HOST } from './valid-requests.js';

/*
 * Changes to a request's head. Some keep it valid (name case, whitespace around a value), most make
 * it one RFC 9112 says to refuse, some make it one the RFC lets a server take or refuse. Which is
 * which is not decided here: reference-reading.ts reads the resulting bytes. Each mutation returns a
 * note for the failure message, or null when it does not apply to this request.
 */

export type Mutation = (rng: Prng, d: RequestDraft) => string | null;

/** A field line index other than the request line, or -1 when the head has none. */
function someField(rng: Prng, d: RequestDraft): number {
  return d.lines.length < 2 ? -1 : rng.int(1, d.lines.length - 1);
}

function splitLine(line: string): [string, string] {
  const colon = line.indexOf(':');
  return colon < 0 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 1).trim()];
}

function currentLength(d: RequestDraft): number {
  return d.body.kind === 'raw' ? d.body.data.length : 0;
}

export const HEAD_MUTATIONS: Record<string, Mutation> = {
  // RFC 9110 §5.1: field names are case-insensitive.
  nameCase(rng, d) {
    const i = someField(rng, d);
    if (i < 0) return null;
    const [name, value] = splitLine(d.lines[i] as string);
    const cased = [...name].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
    d.lines[i] = `${cased}: ${value}`;
    return `name case ${JSON.stringify(cased)}`;
  },
  // RFC 9112 §5: OWS before and after a field value is not part of it.
  valueWhitespace(rng, d) {
    const i = someField(rng, d);
    if (i < 0) return null;
    const [name, value] = splitLine(d.lines[i] as string);
    const ows = ['', ' ', '  ', '\t', ' \t '];
    d.lines[i] = `${name}:${rng.pick(ows)}${value}${rng.pick(ows)}`;
    return `whitespace around the value of ${name}`;
  },
  // RFC 9112 §5.1: a server MUST reject whitespace between a field name and the colon.
  spaceBeforeColon(rng, d) {
    const i = someField(rng, d);
    if (i < 0) return null;
    const [name, value] = splitLine(d.lines[i] as string);
    d.lines[i] = `${name}${rng.pick([' ', '\t', '  '])}: ${value}`;
    return `whitespace before the colon of ${name}`;
  },
  // RFC 9112 §5.2: obs-fold.
  obsFold(rng, d) {
    const i = someField(rng, d);
    if (i < 0) return null;
    d.lines.splice(i + 1, 0, `${rng.pick([' ', '\t', '  '])}folded-${d.marker}`);
    d.eols.splice(i + 1, 0, '\r\n');
    return `obs-fold after line ${i}`;
  },
  // RFC 9112 §2.2: a bare CR inside a line.
  bareCr(rng, d) {
    const i = someField(rng, d);
    if (i < 0) return null;
    const line = d.lines[i] as string;
    const at = rng.int(line.indexOf(':') + 1, line.length);
    d.lines[i] = `${line.slice(0, at)}\r${line.slice(at)}`;
    return `bare CR in line ${i}`;
  },
  // RFC 9112 §2.2: a bare LF as a line end (podgate refuses it).
  bareLf(rng, d) {
    const i = rng.int(0, d.eols.length - 1);
    d.eols[i] = '\n';
    return `bare LF ending line ${i}`;
  },
  // RFC 9112 §3.2: exactly one Host.
  duplicateHost(rng, d) {
    const i = findField(d, 'host');
    const same = i < 0 ? 'ok.test' : splitLine(d.lines[i] as string)[1];
    addField(d, `${rng.pick(['Host', 'host', 'HOST'])}: ${rng.pick([same, EVIL_HOST])}`, rng.int(1, d.lines.length));
    return 'a second Host line';
  },
  dropHost(_rng, d) {
    if (findField(d, 'host') < 0) return null;
    removeField(d, 'host');
    return 'no Host';
  },
  // RFC 9110 §8.6 / RFC 9112 §6.3: podgate refuses two Content-Length lines, even equal ones.
  duplicateContentLength(rng, d) {
    if (d.body.kind !== 'raw') return null;
    const n = currentLength(d);
    addField(d, `Content-Length: ${rng.pick([n, n + 1, 0])}`, rng.int(1, d.lines.length));
    return 'a second Content-Length line';
  },
  // RFC 9112 §6.3 item 5: Content-Length = 1*DIGIT, anything else is unrecoverable.
  contentLengthVariant(rng, d) {
    if (d.body.kind !== 'raw') return null;
    const n = currentLength(d);
    const value = rng.pick([
      `+${n}`,
      `-${n}`,
      `${n}, ${n}`,
      '',
      `0x${n.toString(16)}`,
      `00${n}`,
      ` ${n} `,
      `${n} ${n}`,
      '99999',
      `${n + rng.int(1, 40)}`,
      `${Math.max(0, n - rng.int(1, 40))}`,
    ]);
    setField(d, 'Content-Length', value);
    return `Content-Length ${JSON.stringify(value)} for ${n} body bytes`;
  },
  // podgate's rule (RFC 9112 §6.1, §6.3 item 4): exactly one `chunked`, over every line.
  transferEncodingVariant(rng, d) {
    if (d.body.kind !== 'chunked') return null;
    removeField(d, 'transfer-encoding');
    const single = [
      '',
      '"chunked"',
      'chunked junk',
      'identity',
      'gzip, chunked',
      'CHUNKED',
      ' chunked ',
      'Chunked',
      'chunked,',
      'chunked, chunked',
      'xchunked',
    ];
    const pairs: [string, string][] = [
      ['chunked', 'identity'],
      ['chunked', 'chunked'],
      ['gzip', 'chunked'],
      ['chunked', ''],
      ['"chunked"', 'chunked'],
      ['chunked junk', 'chunked'],
    ];
    if (rng.chance(0.5)) {
      const v = rng.pick(single);
      addField(d, `Transfer-Encoding: ${v}`);
      return `Transfer-Encoding ${JSON.stringify(v)}`;
    }
    const pair = rng.pick(pairs);
    const [a, b] = rng.chance(0.5) ? pair : [pair[1], pair[0]];
    addField(d, `Transfer-Encoding: ${a}`, rng.int(1, d.lines.length));
    addField(d, `transfer-encoding: ${b}`);
    return `Transfer-Encoding lines ${JSON.stringify([a, b])}`;
  },
  // RFC 9112 §6.3 item 3: both framings in one request (podgate refuses it).
  contentLengthAndChunked(rng, d) {
    if (d.body.kind === 'chunked') addField(d, `Content-Length: ${rng.int(0, 30)}`, rng.int(1, d.lines.length));
    else if (d.body.kind === 'raw') addField(d, 'Transfer-Encoding: chunked', rng.int(1, d.lines.length));
    else return null;
    return 'Content-Length and Transfer-Encoding';
  },
  // RFC 9112 §6.1 (TE in 1.0 is faulty framing), §9.3 (1.0 persists only with keep-alive).
  http10(rng, d) {
    d.lines[0] = (d.lines[0] as string).replace(/HTTP\/1\.1$/, 'HTTP/1.0');
    removeField(d, 'connection');
    if (rng.chance(0.6)) addField(d, `Connection: ${rng.pick(['keep-alive', 'Keep-Alive', 'keep-alive, close'])}`);
    if (rng.chance(0.3)) removeField(d, 'host');
    return 'HTTP/1.0';
  },
  // RFC 9112 §9.6: nothing after a request with `close` is a request.
  connectionClose(rng, d) {
    removeField(d, 'connection');
    addField(d, `Connection: ${rng.pick(['close', 'Close', 'keep-alive, close', 'close, x-gone'])}`);
    return 'Connection close';
  },
  // RFC 9112 §3.2: podgate takes origin-form targets only.
  absoluteTarget(_rng, d) {
    d.lines[0] = (d.lines[0] as string).replace(' /', ' http://ok.test/');
    return 'absolute-form target';
  },
  // RFC 9110 §9.1: methods are case-sensitive; an unknown one is still a token.
  methodCase(_rng, d) {
    d.lines[0] = (d.lines[0] as string).replace(/^[A-Z]+/, (m) => m.toLowerCase());
    return 'lower-case method';
  },
};
