import { proxyConfig } from '@podgate/lab';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { FrontSetting } from '../src/front/front-choice.js';
import { httpCommon, type HttpCommon, type HttpParserClass } from '../src/front/node-parser.js';
import { parserSelfTest, parserShapeProblem } from '../src/front/parser-self-test.js';
import { ProxyServer } from '../src/index.js';
import { errorCode, exchange, finals } from './raw-client.js';

// The start-up self-test of node's internal HTTP parser (docs/http-front.md, "Which front serves"),
// and the front podgate chooses from it.

const real = httpCommon as HttpCommon;

/** node's `_http_common` with its parser class changed by `change` (a subclass: node's stays as it is). */
function standIn(change: (parser: HttpParserClass) => void, methods = real.methods): HttpCommon {
  const parser = class extends real.HTTPParser {} as unknown as HttpParserClass;
  change(parser);
  return { HTTPParser: parser, methods };
}

function setStatic(parser: HttpParserClass, name: string, value: unknown): void {
  Object.defineProperty(parser, name, { value, configurable: true });
}

describe('the parser self-test', () => {
  it("passes on this Node's parser, in a few milliseconds", async () => {
    // The first run pays for loading the front's modules: measured on the second.
    await parserSelfTest();
    const start = performance.now();
    expect(await parserSelfTest()).toBeNull();
    // 1-2 ms here once warm (15 ms the first time); the bound leaves room for a loaded machine.
    expect(performance.now() - start).toBeLessThan(100);
  });

  it.each<[string, HttpCommon | null, RegExp]>([
    ['no _http_common module', null, /_http_common module cannot be loaded/],
    ['no parser class', { HTTPParser: undefined as unknown as HttpParserClass, methods: real.methods }, /HTTPParser is not a class/],
    ['kOnExecute missing', standIn((p) => setStatic(p, 'kOnExecute', undefined)), /HTTPParser\.kOnExecute is undefined, not an integer/],
    ['REQUEST not a number', standIn((p) => setStatic(p, 'REQUEST', 'request')), /HTTPParser\.REQUEST is request/],
    ['two callbacks on one number', standIn((p) => setStatic(p, 'kOnHeadersComplete', real.HTTPParser.kOnHeaders)), /callback numbers are not distinct/],
    ['a callback past kOnExecute', standIn((p) => setStatic(p, 'kOnBody', 99)), /do not run from kOnMessageBegin to kOnExecute/],
    ['no consume', standIn((p) => Object.defineProperty(p.prototype, 'consume', { value: undefined })), /prototype\.consume is not a function/],
    [
      'no getCurrentBuffer',
      standIn((p) => Object.defineProperty(p.prototype, 'getCurrentBuffer', { value: undefined })),
      /prototype\.getCurrentBuffer is not a function/,
    ],
    // Distinct and in range, but not where the parser calls: no head is ever reported.
    [
      'kOnHeadersComplete and kOnBody swapped',
      standIn((p) => {
        setStatic(p, 'kOnHeadersComplete', real.HTTPParser.kOnBody);
        setStatic(p, 'kOnBody', real.HTTPParser.kOnHeadersComplete);
      }),
      /the parser gives no method number for DELETE/,
    ],
    ['a method the parser does not know', standIn(() => undefined, [...real.methods, 'BREW']), /no method number for BREW/],
    [
      'a method table without GET',
      standIn(
        () => undefined,
        real.methods.filter((m) => m !== 'GET'),
      ),
      /method table has no GET/,
    ],
  ])('fails, naming what, for a parser with %s', async (_name, common, reason) => {
    expect(parserShapeProblem(common)).toMatch(reason);
    expect(await parserSelfTest(common)).toMatch(reason);
  });
});

/** A proxy with no services (every request a 404 from podgate itself), logging into `lines`. */
function proxyWith(front: FrontSetting, lines: string[], common?: HttpCommon | null): ProxyServer {
  const config = proxyConfig([]);
  config.front = front;
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return new ProxyServer({ config, logger, httpCommon: common });
}

const NO_EXECUTE = standIn((p) => setStatic(p, 'kOnExecute', undefined));

describe('front: auto, native, node', () => {
  it('serves with the native front when the parser passes (auto)', async () => {
    const lines: string[] = [];
    const proxy = proxyWith('auto', lines);
    try {
      await proxy.listen();
      expect(proxy.frontKind).toBe('native');
      expect(proxy.stats(1).front).toBe('native');
      expect(lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 40)).toEqual([]);
    } finally {
      await proxy.close(100);
    }
  });

  it('falls back to the node:http front when the parser fails, and says why in a warning (auto)', async () => {
    const lines: string[] = [];
    const proxy = proxyWith('auto', lines, NO_EXECUTE);
    try {
      const { port } = await proxy.listen();
      expect(proxy.frontKind).toBe('node');
      expect(proxy.stats(1).front).toBe('node');
      const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; selfTest?: string }).filter((l) => l.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.selfTest).toMatch(/HTTPParser\.kOnExecute is undefined/);
      expect(warnings[0]?.msg).toMatch(/failed podgate's self-test .*kOnExecute.*serving with the node:http front/);
      // And it serves: podgate's own 404, JSON and all, through node:http.
      const x = await exchange(port, ['GET /x HTTP/1.1\r\nHost: a.test\r\n\r\n'], { until: finals(1) });
      expect(x.responses.map((r) => r.status)).toEqual([404]);
      expect(errorCode(x.responses[0])).toBe('PODGATE_NO_ROUTE');
    } finally {
      await proxy.close(100);
    }
  });

  it('does not start with front: native when the parser fails', async () => {
    const proxy = proxyWith('native', [], NO_EXECUTE);
    try {
      await expect(proxy.listen()).rejects.toMatchObject({ code: 'PODGATE_PARSER_SELF_TEST_FAILED', message: expect.stringMatching(/kOnExecute/) });
      expect(proxy.address).toBeNull();
    } finally {
      await proxy.close(100);
    }
  });

  it('serves with the node:http front, without a self-test, with front: node', async () => {
    const lines: string[] = [];
    const proxy = proxyWith('node', lines, NO_EXECUTE);
    try {
      await proxy.listen();
      expect(proxy.frontKind).toBe('node');
      expect(lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 40)).toEqual([]);
    } finally {
      await proxy.close(100);
    }
  });
});
