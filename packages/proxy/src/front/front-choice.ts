import type { FrontKind } from './front.js';
import type { HttpCommon } from './node-parser.js';
import { nodeParserVerdict, parserSelfTest } from './parser-self-test.js';

/** The config's `front:` key. */
export type FrontSetting = 'auto' | 'native' | 'node';

/** `front: native` on a Node whose parser failed the self-test: podgate does not start. */
export class ParserSelfTestError extends Error {
  readonly code = 'PODGATE_PARSER_SELF_TEST_FAILED';
}

export interface FrontChoice {
  kind: FrontKind;
  /** Why the self-test failed (null: it passed, or did not run for `front: node`). */
  problem: string | null;
}

/**
 * The front a process serves with. `auto`: the native one when node's parser passes the self-test,
 * else node:http's; `native`: the native one, and an error when the parser fails; `node`: node:http's,
 * no self-test. `common` is a stand-in for node's `_http_common` (tests); by default the self-test
 * of node's own runs once per process.
 */
export async function chooseFront(setting: FrontSetting, common?: HttpCommon | null): Promise<FrontChoice> {
  if (setting === 'node') return { kind: 'node', problem: null };
  const problem = common === undefined ? await nodeParserVerdict() : await parserSelfTest(common);
  if (problem === null) return { kind: 'native', problem: null };
  if (setting === 'native') {
    throw new ParserSelfTestError(
      `front: native, but node's HTTP parser failed podgate's self-test: ${problem}. Set front: auto (or node) to serve with node:http's server`,
    );
  }
  return { kind: 'node', problem };
}
