import { CHUNK_MUTATIONS } from './chunk-mutations.js';
import { HEAD_MUTATIONS, type Mutation } from './head-mutations.js';
import { caseSeed, Prng } from './prng.js';
import { serialize } from './request-draft.js';
import { splitStream, type Part } from './tcp-splits.js';
import { validRequest } from './valid-requests.js';

/*
 * A fuzz case: 1-4 requests for one connection, built valid (valid-requests.ts), some of them
 * mutated (head-mutations.ts, chunk-mutations.ts), then cut into writes (tcp-splits.ts). A case is a
 * pure function of (run seed, case index): the failure message's two numbers replay it.
 */

export interface FuzzCase {
  runSeed: number;
  index: number;
  /** What was done to which request, for the failure message. */
  notes: string[];
  parts: Part[];
}

export interface GeneratorLimits {
  bufferBytes: number;
}

// Weights: the valid-preserving ones are common so later requests of a case are reached too.
const WEIGHTS: Record<string, number> = {
  nameCase: 6,
  valueWhitespace: 6,
  spaceBeforeColon: 2,
  obsFold: 2,
  bareCr: 2,
  bareLf: 2,
  duplicateHost: 2,
  dropHost: 1,
  duplicateContentLength: 2,
  contentLengthVariant: 5,
  transferEncodingVariant: 5,
  contentLengthAndChunked: 2,
  http10: 3,
  connectionClose: 2,
  absoluteTarget: 1,
  methodCase: 1,
  chunkSizeLeadingZeros: 4,
  chunkSizeCase: 3,
  chunkSizeHuge: 2,
  chunkSizeWrong: 2,
  chunkExtension: 5,
  lastChunkZeros: 2,
  chunkBareLf: 2,
  hostileTrailers: 12,
  badTrailer: 2,
};

const MUTATIONS: Record<string, Mutation> = { ...HEAD_MUTATIONS, ...CHUNK_MUTATIONS };
const WEIGHTED = Object.entries(WEIGHTS).map(([name, w]) => [name, w] as const);

export function generateCase(runSeed: number, index: number, limits: GeneratorLimits): FuzzCase {
  const rng = new Prng(caseSeed(runSeed, index));
  const count = rng.weighted([
    [1, 2],
    [2, 4],
    [3, 3],
    [4, 2],
  ] as const);
  const drafts = Array.from({ length: count }, (_, k) => validRequest(rng, { caseIndex: index, request: k, bufferBytes: limits.bufferBytes }));
  const notes: string[] = [];
  const mutations = rng.weighted([
    [0, 2],
    [1, 5],
    [2, 3],
    [3, 1],
  ] as const);
  for (let m = 0, tries = 0; m < mutations && tries < 20; tries++) {
    const k = rng.int(0, drafts.length - 1);
    const name = rng.weighted(WEIGHTED);
    const note = (MUTATIONS[name] as Mutation)(rng, drafts[k] as (typeof drafts)[number]);
    if (note === null) continue;
    notes.push(`request ${k}: ${name}: ${note}`);
    m++;
  }
  const requests = drafts.map((d) => serialize(d));
  // RFC 9112 §2.2: empty lines before a request line (SHOULD be ignored), as some clients send
  // after a POST body.
  if (requests.length > 1 && rng.chance(0.05)) {
    const k = rng.int(1, requests.length - 1);
    requests[k] = `\r\n${requests[k] as string}`;
    notes.push(`request ${k}: an empty line before it`);
  }
  // A stream cut short: the last request never ends.
  if (rng.chance(0.04)) {
    const last = requests.length - 1;
    const text = requests[last] as string;
    const cut = rng.int(1, Math.max(1, text.length - 1));
    requests[last] = text.slice(0, cut);
    notes.push(`request ${last}: cut after ${cut} bytes`);
  }
  return { runSeed, index, notes, parts: splitStream(rng, requests) };
}
