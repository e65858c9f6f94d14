import type { RawResponse } from '../raw-client.js';
import type { PodRecord } from './recording-pod.js';
import type { RefRequest } from './reference-reading.js';
import { EVIL_HOST, markersIn } from './valid-requests.js';

/*
 * What must hold after a case, given the reference reading and what the pods and the client saw.
 * Pure (no I/O), so it can be checked against a synthetic leak (front-fuzz.test.ts) to prove it
 * fails when it should. Each violation is one line saying what was expected and what came.
 */

export interface CaseObservation {
  refs: readonly RefRequest[];
  /** What the pods got during the case, in arrival order (the probe left out). */
  records: readonly PodRecord[];
  responses: readonly RawResponse[];
  /** The client got bytes that are not HTTP responses. */
  responseError: string | null;
  closed: boolean;
}

// RFC 9110 §7.6.1 hop-by-hop fields, plus those podgate re-frames or sets itself: what the pod
// gets of them is podgate's, not the client's.
const NOT_FORWARDED = new Set([
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
  'content-length',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);
const ADDED_BY_PROXY = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-request-id',
  'content-length',
  'transfer-encoding',
  'connection',
]);

export function checkCase(o: CaseObservation): string[] {
  const v: string[] = [];
  for (const rec of o.records) v.push(...framingProblems(rec));
  const { forwarded, stop, rest } = walk(o, v);
  for (const rec of rest) v.push(`pod ${rec.pod} got a request the reference does not allow there: ${describe(rec)}`);
  v.push(...answerProblems(o, forwarded, stop));
  return v;
}

/**
 * Matches the pods' requests to the reference, in order. Stops at the first request podgate did
 * not forward whole (allowed for either, refuse and stop; a violation for valid).
 */
function walk(o: CaseObservation, v: string[]): { forwarded: RefRequest[]; stop: RefRequest | null; rest: PodRecord[] } {
  const forwarded: RefRequest[] = [];
  let p = 0;
  for (const ref of o.refs) {
    const rec = o.records[p];
    // The server closed after a request it may close after: the rest are never read, nor answered.
    const last = forwarded[forwarded.length - 1];
    if (last !== undefined && last.mayClose !== '' && o.closed && rec === undefined && o.responses.filter((r) => r.status >= 200).length === forwarded.length) {
      return { forwarded, stop: null, rest: [] };
    }
    const forwardable = (ref.verdict === 'valid' || ref.verdict === 'either') && ref.headRead;
    if (forwardable && rec !== undefined && rec.complete) {
      const diffs = differences(ref, rec);
      p++;
      if (diffs.length > 0) {
        v.push(`request ${ref.index} (${ref.verdict}) reached pod ${rec.pod} not as the reference reads it: ${diffs.join('; ')}`);
        return { forwarded, stop: null, rest: o.records.slice(p) };
      }
      forwarded.push(ref);
      if (ref.closeAfter) return { forwarded, stop: null, rest: o.records.slice(p) };
      continue;
    }
    if (ref.verdict === 'valid') {
      const got = rec === undefined ? 'nothing' : `only part of it: ${describe(rec)}`;
      v.push(`request ${ref.index} is valid per the reference (${ref.method} ${ref.target}) but the pods got ${got}`);
      return { forwarded, stop: null, rest: o.records.slice(rec === undefined ? p : p + 1) };
    }
    // Not forwarded whole. A body podgate streamed before the problem showed may have reached a pod
    // in part; the pod must have seen it cut (never complete), and only bytes the reference read.
    if (
      rec !== undefined &&
      !rec.complete &&
      ref.headRead &&
      rec.method === ref.method &&
      rec.url === ref.target &&
      ref.body.startsWith(rec.body.toString('latin1'))
    )
      p++;
    return { forwarded, stop: ref, rest: o.records.slice(p) };
  }
  return { forwarded, stop: null, rest: o.records.slice(p) };
}

/** How the pod's copy of `ref` differs from the reference reading (empty: it does not). */
export function differences(ref: RefRequest, rec: PodRecord): string[] {
  const d: string[] = [];
  if (rec.method !== ref.method) d.push(`method ${JSON.stringify(rec.method)}, reference ${JSON.stringify(ref.method)}`);
  if (rec.url !== ref.target) d.push(`target ${JSON.stringify(rec.url)}, reference ${JSON.stringify(ref.target)}`);
  const group = ref.hostName === EVIL_HOST ? 'evil' : 'main';
  if (rec.group !== group) d.push(`routed to the ${rec.group} service, reference Host ${JSON.stringify(ref.hostName)} routes to ${group}`);
  const body = rec.body.toString('latin1');
  if (body !== ref.body) d.push(`body ${escapeBytes(body)}, reference ${escapeBytes(ref.body)}`);
  const got = podFields(rec);
  const want = expectedFields(ref);
  if (JSON.stringify(got) !== JSON.stringify(want)) d.push(`fields ${JSON.stringify(got)}, reference ${JSON.stringify(want)}`);
  const host = ref.fields.find(([n]) => n.toLowerCase() === 'host')?.[1];
  const forwardedHost = headerValues(rec, 'x-forwarded-host');
  if (host !== undefined && (forwardedHost.length !== 1 || forwardedHost[0] !== host))
    d.push(`x-forwarded-host ${JSON.stringify(forwardedHost)}, reference Host ${JSON.stringify(host)}`);
  // The leak this suite exists for: another request's bytes (its target, trailer, Cookie) joined
  // into this one's head. Only markers the reference read in this request's head may be there.
  const own = new Set(markersIn([ref.target, ...ref.fields.map(([, value]) => value)].join('\n')));
  const foreign = markersIn([rec.url, ...rec.rawHeaders].join('\n')).filter((m) => !own.has(m));
  if (foreign.length > 0) d.push(`head carries other requests' markers ${JSON.stringify([...new Set(foreign)])}`);
  return d;
}

/** RFC 9112 §6.3 item 3: a pod must never get both framings (nor a length that is not the body's). */
function framingProblems(rec: PodRecord): string[] {
  const cl = headerValues(rec, 'content-length');
  const te = headerValues(rec, 'transfer-encoding');
  const out: string[] = [];
  if (cl.length > 0 && te.length > 0) out.push(`pod ${rec.pod} got both Content-Length and Transfer-Encoding: ${describe(rec)}`);
  if (cl.length > 1) out.push(`pod ${rec.pod} got ${cl.length} Content-Length lines: ${describe(rec)}`);
  if (rec.complete && cl.length === 1 && Number(cl[0]) !== rec.body.length)
    out.push(`pod ${rec.pod} got Content-Length ${cl[0]} with ${rec.body.length} body bytes`);
  return out;
}

/** Each forwarded request answered 200 with its own target (the pod echoes it), in order; then at most podgate's refusal, with a close. */
function answerProblems(o: CaseObservation, forwarded: readonly RefRequest[], stop: RefRequest | null): string[] {
  if (o.responseError !== null) return [`the client got bytes that are not HTTP responses: ${o.responseError}`];
  const out: string[] = [];
  const finals = o.responses.filter((r) => r.status >= 200);
  forwarded.forEach((ref, i) => {
    const r = finals[i];
    if (r === undefined || r.status !== 200 || r.body !== ref.target)
      out.push(
        `answer ${i} should be the pod's 200 for ${ref.target}, got ${r === undefined ? 'none' : `${r.status} ${JSON.stringify(r.body.slice(0, 200))}`}`,
      );
  });
  const rest = finals.slice(forwarded.length);
  const statuses = JSON.stringify(rest.map((r) => r.status));
  if (stop === null) {
    if (rest.length > 0) out.push(`answers after the last forwarded request: ${statuses}`);
  } else if (stop.verdict === 'refuse' && (rest.length !== 1 || (rest[0] as RawResponse).status < 400 || (rest[0] as RawResponse).status > 499 || !o.closed)) {
    out.push(
      `request ${stop.index} must be refused (${stop.why}): expected one 4xx then a close, got ${statuses}${o.closed ? ' and a close' : ' and no close'}`,
    );
  } else if (stop.verdict !== 'refuse' && (rest.length > 1 || rest.some((r) => r.status < 400 || r.status > 499) || (rest.length === 1 && !o.closed))) {
    out.push(
      `request ${stop.index} (${stop.verdict}: ${stop.why}) not forwarded: expected nothing or one 4xx then a close, got ${statuses}${o.closed ? ' and a close' : ''}`,
    );
  }
  return out;
}

/** The reference's fields a pod must get: all but hop-by-hop ones and those Connection names (RFC 9110 §7.6.1). */
function expectedFields(ref: RefRequest): [string, string][] {
  const named = new Set(
    ref.fields
      .filter(([n]) => n.toLowerCase() === 'connection')
      .flatMap(([, value]) => value.split(','))
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== 'host'),
  );
  return sortByName(ref.fields.map(([n, value]) => [n.toLowerCase(), value] as [string, string]).filter(([n]) => !NOT_FORWARDED.has(n) && !named.has(n)));
}

function podFields(rec: PodRecord): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < rec.rawHeaders.length; i += 2) {
    const name = (rec.rawHeaders[i] as string).toLowerCase();
    if (!ADDED_BY_PROXY.has(name)) out.push([name, rec.rawHeaders[i + 1] as string]);
  }
  return sortByName(out);
}

/** By name only (stable): the order of lines of one name is kept, as it carries meaning (RFC 9110 §5.3). */
function sortByName(fields: [string, string][]): [string, string][] {
  return fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function headerValues(rec: PodRecord, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rec.rawHeaders.length; i += 2) if ((rec.rawHeaders[i] as string).toLowerCase() === name) out.push(rec.rawHeaders[i + 1] as string);
  return out;
}

export function describe(rec: PodRecord): string {
  return `${rec.method} ${JSON.stringify(rec.url)} ${rec.complete ? 'complete' : 'CUT'} headers ${JSON.stringify(rec.rawHeaders)} body ${escapeBytes(rec.body.toString('latin1'))}`;
}

/** JSON with every non-ASCII byte as \u00XX: JSON.parse of it, read as latin1, gives the exact bytes back. */
export function escapeBytes(latin1: string): string {
  return JSON.stringify(latin1).replace(/[\u007f-\u00ff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
