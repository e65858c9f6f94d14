import { createRequire } from 'node:module';

/*
 * node's own HTTP/1 parser (llhttp, in C++), the one node:http's server uses, without
 * node:http's IncomingMessage and ServerResponse around it. It is not a documented API: node
 * exports it from the `_http_common` module for its own http client and server, and its calling
 * convention is the one lib/_http_server.js uses in Node 20. Same parser, same strictness: every
 * framing and header check node's server makes (CL.TE, bad chunks, header size, bare LF, ...) is
 * made here too, in strict mode (no lenient flags).
 */

/** The error `execute` returns: `code` is llhttp's (HPE_INVALID_METHOD, HPE_HEADER_OVERFLOW, ...). */
export interface ParserError extends Error {
  code: string;
  reason?: string;
  bytesParsed: number;
}

export interface NodeHttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | ParserError;
  finish(): number | ParserError | undefined;
  close(): void;
  /** Reads the stream handle in C++ and parses what it reads there: no Buffer for the raw bytes. */
  consume(handle: object): void;
  unconsume(): void;
  /** A copy of the bytes being parsed; valid inside execute's callbacks and kOnExecute. */
  getCurrentBuffer(): Buffer;
  [callback: number]: unknown;
}

export interface HttpParserClass {
  new (): NodeHttpParser;
  REQUEST: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
  kLenientNone: number;
}

/** What podgate takes from node's `_http_common` module. */
export interface HttpCommon {
  HTTPParser: HttpParserClass;
  methods: readonly string[];
}

function loadHttpCommon(): HttpCommon | null {
  try {
    return createRequire(import.meta.url)('_http_common') as HttpCommon;
  } catch {
    return null;
  }
}

/**
 * node's `_http_common`, or null on a Node without it. Checked by parser-self-test.ts before the
 * native front is used: with a parser that fails it, nothing below is called.
 */
export const httpCommon: HttpCommon | null = loadHttpCommon();

export const HTTPParser = httpCommon?.HTTPParser as HttpParserClass;

/**
 * llhttp's method numbers to names (the `method` argument of kOnHeadersComplete), as the parser
 * itself numbers each name of node's `methods` list. Root cause of QUERY reaching pods as a request
 * without a method: the list is in llhttp's order but its numbers have a gap (Node 20.20: the list
 * holds 35 names, and QUERY, the 35th, is method 46); node's own server reads them from a table
 * `_http_common` does not export.
 */
export const METHODS: readonly string[] = httpCommon === null ? [] : methodTable(httpCommon);

export function methodTable(common: HttpCommon): string[] {
  const table: string[] = [];
  try {
    const parser = new common.HTTPParser();
    let method = -1;
    parser[common.HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, _fields: unknown, number: number): number => {
      method = number;
      return 0;
    };
    for (const name of common.methods) {
      parser.initialize(common.HTTPParser.REQUEST, {}, 0, common.HTTPParser.kLenientNone);
      method = -1;
      parser.execute(Buffer.from(`${name} / HTTP/1.1\r\n\r\n`, 'latin1'));
      // llhttp numbers its methods below 64; anything else is not a method number.
      if (Number.isInteger(method) && method >= 0 && method < 64) table[method] = name;
    }
    parser.close();
  } catch {
    // A parser that cannot do this fails the self-test (parser-self-test.ts) on its own.
  }
  // No holes: numbers llhttp does not use name no method.
  return Array.from({ length: table.length }, (_, i) => table[i] ?? '');
}

// Parsers are native objects: reused across connections as node:http does (its pool keeps 1000).
const POOL_SIZE = 1000;
const pool: NodeHttpParser[] = [];
const RESOURCE = {};

/** A request parser set up for a new connection. */
export function takeParser(maxHeaderSize: number): NodeHttpParser {
  const parser = pool.pop() ?? new HTTPParser();
  resetParser(parser, maxHeaderSize);
  return parser;
}

/**
 * What the head callback returns to stop llhttp right after the head, as node's client does for
 * a CONNECT response: llhttp reports the message complete, and execute returns the head's length.
 */
export const STOP_AFTER_HEAD = 2;

/** Sets a parser up for a new message, after a stop at a head: its callbacks stay. */
export function resetParser(parser: NodeHttpParser, maxHeaderSize: number): void {
  parser.initialize(HTTPParser.REQUEST, RESOURCE, maxHeaderSize, HTTPParser.kLenientNone);
}

/** Gives a parser back once its connection closed (never from inside its own callbacks). */
export function giveParser(parser: NodeHttpParser): void {
  for (let k = HTTPParser.kOnMessageBegin; k <= HTTPParser.kOnExecute; k++) parser[k] = undefined;
  if (pool.length < POOL_SIZE) pool.push(parser);
  else parser.close();
}
