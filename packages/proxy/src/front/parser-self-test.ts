import { cannedExchangeProblem } from './canned-exchange.js';
import { httpCommon, methodTable, type HttpCommon } from './node-parser.js';

/*
 * The start-up self-test of node's internal HTTP parser, the one the native front reads requests
 * with (node-parser.ts). It is no documented API: a Node release may renumber its callbacks, change
 * their arguments or drop a method, and the front would misread requests without an error. Before
 * the native front serves, this checks what podgate uses of it, then has the front read canned
 * requests (canned-exchange.ts). About 15 ms once per process, no socket.
 */

/** The callback slots podgate sets; giveParser clears kOnMessageBegin..kOnExecute, so they must be that range. */
const CALLBACKS = ['kOnMessageBegin', 'kOnHeaders', 'kOnHeadersComplete', 'kOnBody', 'kOnMessageComplete', 'kOnExecute'] as const;
const NUMBERS = ['REQUEST', 'kLenientNone', ...CALLBACKS] as const;
/** Parser methods client-connection.ts and node-parser.ts call. */
const PARSER_METHODS = ['initialize', 'execute', 'finish', 'close', 'consume', 'unconsume', 'getCurrentBuffer'] as const;
/** Methods the canned requests use, besides being in the table at all. */
const NEEDED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT'] as const;

/**
 * What podgate uses of `_http_common` that is missing or not as node-parser.ts expects, in one line;
 * null when all of it is there. `common` is node's module, or a stand-in (tests).
 */
export function parserShapeProblem(common: HttpCommon | null): string | null {
  if (common === null) return "node's _http_common module cannot be loaded";
  const parser = common.HTTPParser as unknown as Record<string, unknown> | undefined;
  if (typeof parser !== 'function') return '_http_common.HTTPParser is not a class';
  for (const name of NUMBERS) {
    if (!Number.isInteger(parser[name])) return `HTTPParser.${name} is ${String(parser[name])}, not an integer`;
  }
  const slots = CALLBACKS.map((name) => parser[name] as number);
  if (new Set(slots).size !== slots.length) return `HTTPParser's callback numbers are not distinct (${CALLBACKS.map((n, i) => `${n}=${slots[i]}`).join(', ')})`;
  if (Math.min(...slots) !== parser['kOnMessageBegin'] || Math.max(...slots) !== parser['kOnExecute']) {
    return `HTTPParser's callback numbers do not run from kOnMessageBegin to kOnExecute (${CALLBACKS.map((n, i) => `${n}=${slots[i]}`).join(', ')})`;
  }
  const proto = (parser['prototype'] ?? {}) as Record<string, unknown>;
  for (const name of PARSER_METHODS) {
    if (typeof proto[name] !== 'function') return `HTTPParser.prototype.${name} is not a function`;
  }
  if (!Array.isArray(common.methods) || common.methods.some((m) => typeof m !== 'string')) return '_http_common.methods is not a list of names';
  const table = methodTable(common);
  for (const name of common.methods) {
    if (table.indexOf(name) === -1) return `the parser gives no method number for ${name}`;
    if (table.indexOf(name) !== table.lastIndexOf(name)) return `the parser gives ${name} two method numbers`;
  }
  for (const name of NEEDED_METHODS) if (!table.includes(name)) return `the parser's method table has no ${name}`;
  return null;
}

/**
 * Why the native front cannot trust node's parser, in one line; null when it can. `common` is
 * checked for its shape; the canned requests are read by the front as it runs, on node's module.
 */
export async function parserSelfTest(common: HttpCommon | null = httpCommon): Promise<string | null> {
  const shape = parserShapeProblem(common);
  if (shape !== null) return shape;
  try {
    const problem = await cannedExchangeProblem();
    return problem === null ? null : `canned requests misread: ${problem}`;
  } catch (err) {
    return `canned requests failed: ${(err as Error).message}`;
  }
}

let verdict: Promise<string | null> | null = null;

/** The self-test of node's own module, run once per process. */
export function nodeParserVerdict(): Promise<string | null> {
  verdict ??= parserSelfTest(httpCommon);
  return verdict;
}
