import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ClientExchange } from './client-exchange.js';
import { HttpFront } from './http-front.js';
import type { NativeExchange } from './native-exchange.js';
import { declaresBody } from './request-head.js';

/*
 * Known requests read by the native front itself (HttpFront, ClientConnection, NativeExchange on
 * node's parser) over in-memory streams, and what it must make of them. Everything a Node release
 * could change under the front shows here as a wrong field, a wrong body, or a missing answer: the
 * callback numbers, kOnHeadersComplete's positional arguments, the batches of kOnHeaders, kOnBody's
 * chunk, execute's return values and errors, a stop after a head, initialize's size limit and
 * strictness. Only `consume` (the parser reading a socket's handle) needs a real socket: its
 * presence is checked by parser-self-test.ts. About 15 ms the first time in a process (most of it
 * compiling the front's code, which the first connections would compile anyway), 1-2 ms after.
 */

/** What the front made of one request. */
interface Seen {
  line: string;
  host: string;
  fields: number;
  keepAlive: boolean;
  upgrade: boolean;
  body: string;
}

interface Case {
  name: string;
  input: string;
  /** Feed one byte a read (every split of the input). */
  bytewise: boolean;
  expect: Seen[];
  /** The status of each answer, in order. */
  statuses: number[];
}

// Small, so the head-size case is cheap; the cases' heads are under it.
const MAX_HEADER_BYTES = 1024;
const MANY = Array.from({ length: 40 }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
const CHUNKED = 'PUT /c HTTP/1.1\r\nHost: c.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n';
const CHUNKED_SEEN: Seen = { line: 'PUT /c HTTP/1.1', host: 'c.test', fields: 2, keepAlive: true, upgrade: false, body: 'abcde' };
const LAST = 'OPTIONS /f HTTP/1.1\r\nHost: f.test\r\nConnection: close\r\n\r\n';
const LAST_SEEN: Seen = { line: 'OPTIONS /f HTTP/1.1', host: 'f.test', fields: 2, keepAlive: false, upgrade: false, body: '' };
const PIPELINED =
  'GET /a?x=1 HTTP/1.1\r\nHost: a.test\r\nX-One: 1\r\n\r\n' +
  'POST /b HTTP/1.1\r\nHost: b.test\r\nContent-Length: 5\r\n\r\nhello' +
  CHUNKED +
  // Past 32 fields the head comes in batches (kOnHeaders), and after a chunked body its trailers did.
  `GET /d HTTP/1.1\r\nHost: d.test\r\n${MANY}\r\n` +
  'DELETE /e HTTP/1.0\r\nHost: e.test\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n' +
  LAST;
const PIPELINED_SEEN: Seen[] = [
  { line: 'GET /a?x=1 HTTP/1.1', host: 'a.test', fields: 2, keepAlive: true, upgrade: false, body: '' },
  { line: 'POST /b HTTP/1.1', host: 'b.test', fields: 2, keepAlive: true, upgrade: false, body: 'hello' },
  CHUNKED_SEEN,
  { line: 'GET /d HTTP/1.1', host: 'd.test', fields: 41, keepAlive: true, upgrade: false, body: '' },
  { line: 'DELETE /e HTTP/1.0', host: 'e.test', fields: 3, keepAlive: true, upgrade: false, body: '' },
  LAST_SEEN,
];

const CASES: Case[] = [
  { name: 'pipelined requests', input: PIPELINED, bytewise: false, expect: PIPELINED_SEEN, statuses: [204, 204, 204, 204, 204, 204] },
  // Every split of a chunked request (its head, sizes, extension, data, trailer) and of the one after it.
  { name: 'a chunked request and the next, one byte a read', input: CHUNKED + LAST, bytewise: true, expect: [CHUNKED_SEEN, LAST_SEEN], statuses: [204, 204] },
  {
    name: 'an upgrade',
    input: 'GET /ws HTTP/1.1\r\nHost: w.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /no HTTP/1.1\r\n\r\n',
    bytewise: false,
    expect: [{ line: 'GET /ws HTTP/1.1', host: 'w.test', fields: 3, keepAlive: true, upgrade: true, body: '' }],
    statuses: [501],
  },
  {
    name: 'a CONNECT',
    input: 'CONNECT c.test:443 HTTP/1.1\r\nHost: c.test:443\r\n\r\n',
    bytewise: false,
    expect: [{ line: 'CONNECT c.test:443 HTTP/1.1', host: 'c.test:443', fields: 1, keepAlive: true, upgrade: true, body: '' }],
    statuses: [501],
  },
  // initialize's size argument: 431 past it.
  {
    name: 'a head over the size limit',
    input: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(MAX_HEADER_BYTES)}\r\n\r\n`,
    bytewise: false,
    expect: [],
    statuses: [431],
  },
  // initialize's lenient argument: strict mode refuses these.
  {
    name: 'Content-Length with Transfer-Encoding',
    input: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
    bytewise: false,
    expect: [],
    statuses: [400],
  },
  { name: 'bare LF line ends', input: 'GET / HTTP/1.1\nHost: x\n\n', bytewise: false, expect: [], statuses: [400] },
];

// Each case ends with the front closing its connection; a case still open after this failed.
const CASE_LIMIT_MS = 1000;

/** Why the native front misreads the canned requests, in one line; null when it reads them all right. */
export async function cannedExchangeProblem(): Promise<string | null> {
  const problems = await Promise.all(CASES.map(runCase));
  return problems.find((p) => p !== null) ?? null;
}

async function runCase(c: Case): Promise<string | null> {
  const seen: Seen[] = [];
  const front = new HttpFront({
    maxHeaderBytes: MAX_HEADER_BYTES,
    headerTimeoutMs: CASE_LIMIT_MS,
    requestTimeoutMs: CASE_LIMIT_MS,
    keepAliveTimeoutMs: CASE_LIMIT_MS,
    onExchange: (ex) => answer(ex, seen),
    requestId: () => 'self-test',
  });
  const written: Buffer[] = [];
  let ended: () => void = noop;
  const closed = new Promise<void>((resolve) => (ended = resolve));
  const stream = new Duplex({
    read: noop,
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
    final(callback) {
      callback();
      ended();
    },
  });
  stream.on('error', noop);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('the connection was never closed'), CASE_LIMIT_MS)));
  try {
    front.adopt(stream as unknown as Socket);
    const input = Buffer.from(c.input, 'latin1');
    if (c.bytewise) for (let i = 0; i < input.length; i++) stream.push(input.subarray(i, i + 1));
    else stream.push(input);
    const timedOut = await Promise.race([closed.then(() => null), late]);
    const problem = timedOut ?? compare(seen, c.expect) ?? compareStatuses(Buffer.concat(written).toString('latin1'), c.statuses);
    return problem === null ? null : `${c.name}: ${problem}`;
  } finally {
    clearTimeout(timer);
    stream.destroy();
    // Its connection gives its parser back as the stream closes: before the front closes.
    await finished(stream).catch(noop);
    await front.close(0);
  }
}

/** What the proxy would do, minus the pods: read the body, then answer. */
function answer(ex: ClientExchange, seen: Seen[]): void {
  const s: Seen = {
    line: `${ex.method} ${ex.url} HTTP/${ex.versionMajor}.${ex.versionMinor}`,
    host: ex.host ?? '(none)',
    fields: ex.rawHeaders.length / 2,
    keepAlive: (ex as NativeExchange).keepAlive,
    upgrade: ex.upgrade,
    body: '',
  };
  seen.push(s);
  if (ex.upgrade) {
    ex.sendWhole(501, 'Not Implemented', '', '', true);
    return;
  }
  if (!declaresBody(ex)) {
    ex.sendWhole(204, 'No Content', '', '', false);
    return;
  }
  ex.setBodySink({
    onBody: (chunk) => (s.body += chunk.toString('latin1')),
    onBodyAnnounced: noop,
    onBodyEnd: () => ex.sendWhole(204, 'No Content', '', '', false),
    onBodyError: (err) => (s.body += ` (error: ${err.message})`),
  });
}

function compare(seen: readonly Seen[], expected: readonly Seen[]): string | null {
  for (let i = 0; i < Math.max(seen.length, expected.length); i++) {
    const got = seen[i];
    const want = expected[i];
    if (want === undefined) return `an unexpected request ${JSON.stringify(got?.line)}`;
    if (got === undefined) return `request ${i + 1} (${JSON.stringify(want.line)}) was not read`;
    for (const key of Object.keys(want) as (keyof Seen)[]) {
      if (got[key] !== want[key]) return `request ${i + 1}: ${key} ${JSON.stringify(got[key])}, expected ${JSON.stringify(want[key])}`;
    }
  }
  return null;
}

function compareStatuses(text: string, expected: readonly number[]): string | null {
  const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  if (statuses.join() === expected.join()) return null;
  return `answered ${JSON.stringify(statuses)}, expected ${JSON.stringify(expected)}`;
}

function noop(): void {}
