import { readBody } from './rfc9112-body.js';
import { headMeaning, type FramingLimits } from './rfc9112-framing.js';
import { hostName, parseFieldLine, parseRequestLine, readLine } from './rfc9112-lines.js';

/*
 * The reference reading of a connection's bytes: the requests RFC 9112 finds in them, in order,
 * each with what a pod may see of it. It is written from the RFC (the rfc9112-*.ts files), not from
 * podgate's code, and reads the bytes as one stream: how they were cut into writes must not
 * change what they mean.
 */

/**
 * - valid: podgate must forward it, exactly as read here.
 * - either: the RFC lets a server forward or refuse it; forwarded, it must be exactly as read here;
 *   refused, nothing after it may reach a pod.
 * - refuse: podgate must answer it 4xx and close; nothing of it or after it may reach a pod.
 * - stop: it never completes (bytes missing, body over the limit): it must not reach a pod whole,
 *   and nothing after it may reach a pod; podgate may answer it 4xx or not at all.
 */
export type Verdict = 'valid' | 'either' | 'refuse' | 'stop';

export interface RefRequest {
  /** Position on the connection, from 0. */
  index: number;
  verdict: Verdict;
  /** Why it is not plainly valid (RFC section or podgate rule); '' when valid. */
  why: string;
  /** The head was read whole (method, target and fields mean something). */
  headRead: boolean;
  method: string;
  target: string;
  minor: number;
  /** Header fields as read: name as sent, value without OWS. */
  fields: (readonly [string, string])[];
  /** Body bytes (latin1); for refuse and stop, what was read before the problem. */
  body: string;
  /** The Host's name: which service podgate routes it to. */
  hostName: string;
  /** Nothing after it on the connection is a request (RFC 9112 §9.3, §9.6). */
  closeAfter: boolean;
  /**
   * Why the server may close after it though the client asked to keep the connection ('' if not):
   * RFC 9112 §9.5, any server "MAY close the transport connection at any time".
   */
  mayClose: string;
  /** Byte offsets of the request in the stream. */
  start: number;
  end: number;
}

export function readReference(stream: string, limits: FramingLimits): RefRequest[] {
  const out: RefRequest[] = [];
  let at = 0;
  while (at < stream.length) {
    const r = readOne(stream, at, out.length, limits);
    out.push(r);
    if (r.verdict === 'refuse' || r.verdict === 'stop' || r.closeAfter) break;
    at = r.end;
  }
  return out;
}

function readOne(s: string, start: number, index: number, limits: FramingLimits): RefRequest {
  const r: RefRequest = {
    index,
    verdict: 'valid',
    why: '',
    headRead: false,
    method: '',
    target: '',
    minor: 1,
    fields: [],
    body: '',
    hostName: '',
    closeAfter: false,
    mayClose: '',
    start,
    end: s.length,
  };
  const either: string[] = [];
  const end = (verdict: 'refuse' | 'stop', why: string): RefRequest => Object.assign(r, { verdict, why });
  let at = start;
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a request-line, and MAY
  // take a bare LF as a line end (llhttp skips "\n" there too: seed 1936011584, case 282).
  for (;;) {
    if (s.startsWith('\r\n', at)) at += 2;
    else if (s[at] === '\n') at += 1;
    else break;
  }
  if (at > start) either.push('empty line(s) before the request line (RFC 9112 §2.2: SHOULD be ignored)');
  if (at >= s.length) {
    // Only empty lines: no request; a server may ignore them or answer 400.
    return Object.assign(r, { verdict: 'either', why: either.join('; ') });
  }
  const first = readLine(s, at);
  if (first.kind === 'short') return end('stop', 'the bytes end inside the request line');
  if (first.kind === 'bad') return end('refuse', `request line: ${first.why}`);
  const line = parseRequestLine(first.text);
  if (line.kind === 'bad') return end('refuse', line.why);
  if (line.either !== null) either.push(line.either);
  Object.assign(r, { method: line.method, target: line.target, minor: line.minor });
  at = first.next;
  for (;;) {
    const l = readLine(s, at);
    if (l.kind === 'short') return end('stop', 'the bytes end inside the head');
    if (l.kind === 'bad') return end('refuse', `field line: ${l.why}`);
    at = l.next;
    if (l.text === '') break;
    const f = parseFieldLine(l.text);
    if (f.kind === 'bad') return end('refuse', f.why);
    r.fields.push([f.name, f.value]);
    // RFC 9112 §5 allows HTAB in the OWS after a value; llhttp refuses it after the two framing
    // fields (only there). Refusing them is safe: nothing is forwarded on a reading of its own.
    const lower = f.name.toLowerCase();
    if (f.tabAfter && (lower === 'content-length' || lower === 'transfer-encoding'))
      either.push(`HTAB after the ${f.name} value (RFC 9112 §5 OWS; strict parsers refuse it)`);
    // llhttp misses a keep-alive token followed by HTAB: closing then is allowed (RFC 9112 §9.5).
    if (f.tabAfter && lower === 'connection') r.mayClose = `HTAB after the Connection value ${JSON.stringify(f.value)}`;
  }
  r.headRead = true;
  const meaning = headMeaning(r.minor, r.fields, limits);
  if (meaning.kind === 'refuse') return end('refuse', meaning.why);
  either.push(...meaning.either);
  r.hostName = hostName(meaning.host);
  r.closeAfter = meaning.closeAfter;
  const body = readBody(s, at, meaning.framing, limits.maxBodyBytes);
  if (body.kind !== 'done') {
    r.body = body.body;
    return end(body.kind, body.why);
  }
  either.push(...body.either);
  r.body = body.body;
  r.end = body.next;
  if (either.length > 0) Object.assign(r, { verdict: 'either', why: either.join('; ') });
  return r;
}

// A request that never reaches a pod whole ends what podgate may forward on the connection.
export function endsConnection(r: RefRequest): boolean {
  return r.verdict === 'refuse' || r.verdict === 'stop';
}

/**
 * Answers the client must get before the case is over: one per request up to and including the
 * first refused one (an either request is answered either way; a stop one maybe never).
 */
export function expectedAnswers(refs: readonly RefRequest[]): number {
  let n = 0;
  for (const r of refs) {
    if (r.verdict === 'stop') break;
    // Only empty lines: nothing to answer, or a 400.
    if (r.verdict === 'either' && !r.headRead && r.method === '') break;
    n++;
    if (r.verdict === 'refuse') break;
  }
  return n;
}
