import type { Prng } from './prng.js';
import { addField, chunkedOf, newDraft, type RequestDraft } from './request-draft.js';

/*
 * Well-formed requests (RFC 9112 §3, §5, §6), the starting point of every case: mutations.ts then
 * breaks some of them. Each request carries its own marker in the target, an X-Fuzz value, its
 * Cookie and its body, so a byte of it found in another request is visible at the pod.
 */

/** `x`: the request's own; `t`: its trailers' (never forwarded); `h`: a request hidden in its body. */
export type MarkerKind = 'x' | 't' | 'h';

export function marker(caseIndex: number, request: number, kind: MarkerKind): string {
  return `m${caseIndex}r${request}${kind}`;
}

/** Every marker in `text` (what the pod's copy of a request is searched for). */
export function markersIn(text: string): string[] {
  return text.match(/m\d+r\d+[xth]/g) ?? [];
}

/** Host values a pod may see; evil.test is routed to the pod that must never get anything. */
export const GOOD_HOSTS = ['ok.test', 'ok.test:8080', 'OK.Test', 'api.ok.test', '127.0.0.1:18080'] as const;
export const EVIL_HOST = 'evil.test';

const BODY_METHODS = ['POST', 'PUT', 'PATCH'] as const;
const PLAIN_METHODS = ['GET', 'DELETE', 'OPTIONS'] as const;
const QUERY = 'abcdefghijklmnopqrstuvwxyz0123456789-._~';
const PRINTABLE = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';

export interface ValidOptions {
  caseIndex: number;
  request: number;
  /** podgate's buffer size in the harness: bodies past it are streamed to the pod. */
  bufferBytes: number;
}

/** Bodies from this size to the buffer size are read into their buffer past llhttp (client-connection.ts). */
const HELD_MIN_BYTES = 16 * 1024;

export function validRequest(rng: Prng, o: ValidOptions): RequestDraft {
  const mark = marker(o.caseIndex, o.request, 'x');
  const http10 = rng.chance(0.2);
  const hasBody = rng.chance(0.45);
  const method = hasBody
    ? rng.weighted([...BODY_METHODS.map((m) => [m, 3] as const), ['GET', 1], ['DELETE', 1]])
    : rng.pick([...PLAIN_METHODS, ...BODY_METHODS]);
  let target = `/fz/${mark}`;
  if (rng.chance(0.3)) target += `/${rng.text(rng.int(1, 8), QUERY)}`;
  if (rng.chance(0.3)) target += `?q=${rng.text(rng.int(0, 10), QUERY)}&k=${mark}`;
  const fields: [string, string][] = [
    ['Host', rng.pick(GOOD_HOSTS)],
    ['X-Fuzz', mark],
  ];
  if (rng.chance(0.4)) fields.push(['Cookie', `session=victim-${mark}`]);
  if (rng.chance(0.3)) fields.push(['User-Agent', 'podgate-fuzz/1']);
  if (rng.chance(0.3)) fields.push(['Accept', '*/*']);
  if (rng.chance(0.1)) fields.push(['X-Dup', `a-${mark}`], ['X-Dup', `b-${mark}`]);
  // RFC 9112 §9.3: HTTP/1.0 persists only with keep-alive; HTTP/1.1 unless close.
  if (http10 && rng.chance(0.75)) fields.push(['Connection', rng.pick(['keep-alive', 'Keep-Alive'])]);
  if (!http10 && rng.chance(0.06)) fields.push(['Connection', 'close']);
  if (!http10 && rng.chance(0.08)) fields.push(['Connection', 'keep-alive'], ['Keep-Alive', 'timeout=5']);
  // Host first is the usual order, but nothing requires it (RFC 9110 §5.3).
  if (rng.chance(0.2)) fields.reverse();
  const draft = newDraft(mark, `${method} ${target} HTTP/1.${http10 ? 0 : 1}`, fields);
  if (hasBody) addBody(rng, draft, o, http10);
  return draft;
}

function addBody(rng: Prng, d: RequestDraft, o: ValidOptions, http10: boolean): void {
  const data = bodyData(rng, o);
  if (rng.chance(0.3)) addField(d, 'Content-Type: application/octet-stream');
  // RFC 9112 §6.1: chunked is an HTTP/1.1 framing.
  if (http10 || rng.chance(0.55)) {
    addField(d, `Content-Length: ${data.length}`);
    d.body = { kind: 'raw', data };
    return;
  }
  addField(d, 'Transfer-Encoding: chunked');
  const sizes: number[] = [];
  let left = data.length;
  const pieces = rng.int(1, 4);
  for (let i = 0; i < pieces && left > 0; i++) {
    const n = i === pieces - 1 ? left : rng.int(1, left);
    sizes.push(n);
    left -= n;
  }
  d.body = { kind: 'chunked', chunked: chunkedOf(data, sizes) };
}

function bodyData(rng: Prng, o: ValidOptions): string {
  const mark = marker(o.caseIndex, o.request, 'x');
  const kind = rng.weighted([
    ['empty', 5],
    ['small', 50],
    ['medium', 20],
    ['streamed', 8],
    ['binary', 10],
    ['hidden', 7],
    // Only when the harness holds such bodies whole (a weight of 0 leaves other seeds' cases as they were).
    ['held', o.bufferBytes >= HELD_MIN_BYTES ? 40 : 0],
  ] as const);
  if (kind === 'empty') return '';
  if (kind === 'hidden') {
    // A whole request inside the body: it must reach the pod as body bytes only.
    const h = marker(o.caseIndex, o.request, 'h');
    return `GET /fz/${h} HTTP/1.1\r\nHost: ${EVIL_HOST}\r\nX-Fuzz: ${h}\r\n\r\n`;
  }
  const size =
    kind === 'small'
      ? rng.int(1, 64)
      : kind === 'medium'
        ? rng.int(65, 400)
        : kind === 'streamed'
          ? rng.int(o.bufferBytes + 1, 2 * o.bufferBytes)
          : kind === 'held'
            ? rng.int(HELD_MIN_BYTES, o.bufferBytes)
            : rng.int(1, 200);
  const filler = kind === 'binary' ? rng.bytes(size) : rng.text(size, `${PRINTABLE}\r\n`);
  const at = rng.int(0, filler.length);
  return filler.slice(0, at) + mark + filler.slice(at);
}
