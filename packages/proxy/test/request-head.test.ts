import { describe, expect, it } from 'vitest';
import type { ClientConnection } from '../src/front/client-connection.js';
import { NativeExchange } from '../src/front/native-exchange.js';
import { readRequestFields, type RequestFields } from '../src/front/request-head.js';

// The fields podgate acts on are read by two copies of one loop: readRequestFields (the node:http
// front) and the native exchange's constructor, where it is written out for speed. No socket: the
// native exchange only keeps its connection.

const HEADS: [string, string[]][] = [
  ['no fields', []],
  ['a plain GET', ['Host', 'a.test', 'User-Agent', 'x', 'Accept', '*/*']],
  ['two Hosts, in any case', ['host', 'a.test', 'HOST', 'b.test']],
  ['two Content-Lengths', ['Content-Length', '3', 'content-length', '4']],
  ['Transfer-Encoding on two lines', ['Transfer-Encoding', 'gzip', 'transfer-encoding', 'chunked']],
  [
    'Connection and X-Forwarded-For on two lines',
    ['Connection', 'keep-alive', 'X-Forwarded-For', '127.1.0.1', 'connection', 'x-hop', 'x-forwarded-for', '127.1.0.2'],
  ],
  ['Expect twice and a request id', ['Expect', '100-continue', 'expect', '200-ok', 'X-Request-Id', 'r1']],
  [
    'names of the lengths podgate looks at that it does not act on',
    ['Hostx', '1', 'Accept', '2', 'X-Forwarded', '3', 'Content-Type', '4', 'Content-Lengths', '5', 'X-Forwarded-Form', '6'],
  ],
];

function fieldsOf(head: RequestFields): RequestFields {
  const { host, hostCount, contentLength, transferEncoding, connection, forwardedFor, expect: expectation, hasRequestId } = head;
  return { host, hostCount, contentLength, transferEncoding, connection, forwardedFor, expect: expectation, hasRequestId };
}

describe('the fields podgate acts on', () => {
  it.each(HEADS)('are read the same by both fronts (%s)', (_name, raw) => {
    const node: RequestFields = {
      host: undefined,
      hostCount: 0,
      contentLength: undefined,
      transferEncoding: undefined,
      connection: undefined,
      forwardedFor: undefined,
      expect: undefined,
      hasRequestId: false,
    };
    readRequestFields(node, raw);
    const native = new NativeExchange({} as ClientConnection, 'GET', '/', 1, 1, raw, false, true);
    expect(fieldsOf(native)).toEqual(fieldsOf(node));
  });

  it('keeps the first Host and counts them, joins Transfer-Encoding lines, keeps the first Content-Length', () => {
    const node: RequestFields = {
      host: undefined,
      hostCount: 0,
      contentLength: undefined,
      transferEncoding: undefined,
      connection: undefined,
      forwardedFor: undefined,
      expect: undefined,
      hasRequestId: false,
    };
    readRequestFields(node, [
      'Host',
      'a.test',
      'host',
      'b.test',
      'Transfer-Encoding',
      'gzip',
      'Transfer-Encoding',
      'chunked',
      'Content-Length',
      '3',
      'Content-Length',
      '4',
    ]);
    expect(node).toMatchObject({ host: 'a.test', hostCount: 2, transferEncoding: 'gzip, chunked', contentLength: '3' });
  });
});
