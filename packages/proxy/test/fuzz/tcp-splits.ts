import type { Prng } from './prng.js';

/*
 * How a case's bytes go on the wire: one write, or cut at random offsets with short pauses, and
 * sometimes a long pause between whole requests. A parser that keeps state between reads (the
 * trailer leak needed the next request to come in a later read) is only exercised when the bytes
 * arrive in several reads, at every possible cut.
 */

export interface Part {
  /** Waited before this part is written (the first part's is 0). */
  pauseMs: number;
  bytes: string;
}

/** Short pauses: within one TCP read or a few, as a slow client or a busy network gives. */
const SHORT_MAX_MS = 30;
/** Long pauses: every read before them is surely parsed before the next bytes come. */
const LONG_MIN_MS = 100;
const LONG_MAX_MS = 300;

/** Cuts `requests` (their concatenation is the stream) into parts with pauses. */
export function splitStream(rng: Prng, requests: readonly string[]): Part[] {
  const stream = requests.join('');
  if (stream.length === 0) return [{ pauseMs: 0, bytes: '' }];
  const cuts = new Map<number, number>();
  // Whole-request boundaries, where the leak lived: long pauses in some cases.
  const slow = rng.chance(0.25);
  let at = 0;
  for (const request of requests.slice(0, -1)) {
    at += request.length;
    if (slow && rng.chance(0.6)) cuts.set(at, rng.int(LONG_MIN_MS, LONG_MAX_MS));
    else if (rng.chance(0.4)) cuts.set(at, rng.int(0, SHORT_MAX_MS));
  }
  // Random cuts anywhere (inside a field name, between CR and LF, inside a chunk-size).
  if (!rng.chance(0.25)) {
    for (let n = rng.int(1, 6); n > 0; n--) cuts.set(rng.int(1, stream.length - 1), rng.chance(0.3) ? 0 : rng.int(1, SHORT_MAX_MS));
  }
  const offsets = [...cuts.keys()].filter((o) => o > 0 && o < stream.length).sort((a, b) => a - b);
  const parts: Part[] = [];
  let from = 0;
  let pause = 0;
  for (const o of offsets) {
    parts.push({ pauseMs: pause, bytes: stream.slice(from, o) });
    pause = cuts.get(o) ?? 0;
    from = o;
  }
  parts.push({ pauseMs: pause, bytes: stream.slice(from) });
  return parts;
}

export function streamOf(parts: readonly Part[]): string {
  return parts.map((p) => p.bytes).join('');
}
