import http from 'node:http';
import { median } from './stats.js';
import type { Target } from './target.js';

/** One upload at a time, to direct and to podgate in turns: what a single request pays. */
export interface IdleUpload {
  bodyBytes: number;
  requestsPerRound: number;
  rounds: number;
  /** Medians over the rounds of each round's median and p90, in ms (request start to the answer's end). */
  direct: { p50Ms: number; p90Ms: number };
  podgate: { p50Ms: number; p90Ms: number };
  addedP50Ms: number;
  addedP90Ms: number;
  errors: number;
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

/**
 * The time one POST of `bodyBytes` takes on an idle proxy, against the same request straight to a
 * pod, on one keep-alive connection each, nothing else in flight: podgate minus direct is what it
 * adds (store-and-forward adds the body's transfer once more). Bounded: requestsPerRound × rounds
 * requests a target, each with a 5 s timeout.
 */
export async function measureIdleUpload(opts: {
  direct: Target;
  podgate: Target;
  bodyBytes: number;
  requestsPerRound: number;
  rounds: number;
  log: (line: string) => void;
}): Promise<IdleUpload> {
  const body = Buffer.alloc(opts.bodyBytes, 0x78);
  const perTarget = new Map<Target['id'], Array<{ p50: number; p90: number }>>();
  let errors = 0;
  for (let round = 1; round <= opts.rounds; round++) {
    for (const target of [opts.direct, opts.podgate]) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const times: number[] = [];
      try {
        // Warm: the connection and the code paths.
        for (let i = 0; i < 10; i++) await postOnce(target.url, body, agent);
        for (let i = 0; i < opts.requestsPerRound; i++) {
          const t0 = process.hrtime.bigint();
          const ok = await postOnce(target.url, body, agent);
          if (!ok) errors++;
          times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      } finally {
        agent.destroy();
      }
      times.sort((a, b) => a - b);
      const r = { p50: percentile(times, 50), p90: percentile(times, 90) };
      perTarget.set(target.id, [...(perTarget.get(target.id) ?? []), r]);
      opts.log(
        `  idle upload round ${round}/${opts.rounds} ${target.id.padEnd(11)} ${opts.requestsPerRound} × ${opts.bodyBytes} B  p50 ${r.p50.toFixed(3)} ms  p90 ${r.p90.toFixed(3)} ms`,
      );
    }
  }
  const of = (id: Target['id']): { p50Ms: number; p90Ms: number } => {
    const rounds = perTarget.get(id) ?? [];
    return { p50Ms: median(rounds.map((r) => r.p50)), p90Ms: median(rounds.map((r) => r.p90)) };
  };
  const direct = of(opts.direct.id);
  const podgate = of(opts.podgate.id);
  return {
    bodyBytes: opts.bodyBytes,
    requestsPerRound: opts.requestsPerRound,
    rounds: opts.rounds,
    direct,
    podgate,
    addedP50Ms: podgate.p50Ms - direct.p50Ms,
    addedP90Ms: podgate.p90Ms - direct.p90Ms,
    errors,
  };
}

function postOnce(url: string, body: Buffer, agent: http.Agent): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-length': body.length }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => resolve(false));
    req.end(body);
  });
}
