import net from 'node:net';
import { parseResponses, type RawResponse } from '../raw-client.js';
import type { Part } from './tcp-splits.js';

/*
 * Plays a case's writes on one raw connection, with their pauses, and reads what podgate answers.
 * It stops as soon as the outcome is settled, so a case costs little more than its pauses: podgate
 * closed the connection; or every answer the reference expects came (none of them a 4xx, after
 * which podgate must close) and nothing more came for a short while; or a deadline passed.
 */

export interface PlayResult {
  /** Every byte podgate sent, latin1. */
  text: string;
  /** podgate closed the connection (rather than the test giving up on it). */
  closed: boolean;
  ms: number;
}

/** After the expected answers: this long without more bytes and the case is over. */
const QUIET_MS = 60;
/** After the last write: the longest a case waits for its answers or the close. */
const DEADLINE_MS = 3000;

export function playCase(port: number, parts: readonly Part[], expectedAnswers: number): Promise<PlayResult> {
  return new Promise((resolve) => {
    const start = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    let writesDone = false;
    let quiet: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let pacing: NodeJS.Timeout | undefined;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(deadline);
      clearTimeout(pacing);
      socket.destroy();
      resolve({ text, closed, ms: Date.now() - start });
    };
    const settle = (): void => {
      if (!writesDone || done) return;
      const { finals, refused } = tally(text);
      clearTimeout(quiet);
      // A refusal is followed by a close: wait for it (the deadline bounds the wait).
      if (finals >= expectedAnswers && !refused) quiet = setTimeout(() => finish(false), QUIET_MS);
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      settle();
    });
    // A reset after podgate refused the request is a close too.
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    const writeFrom = (i: number): void => {
      if (done) return;
      if (i >= parts.length || socket.destroyed) {
        writesDone = true;
        deadline = setTimeout(() => finish(false), DEADLINE_MS);
        settle();
        return;
      }
      socket.write(Buffer.from((parts[i] as Part).bytes, 'latin1'));
      const next = parts[i + 1];
      if (next === undefined) writeFrom(i + 1);
      else pacing = setTimeout(() => writeFrom(i + 1), next.pauseMs);
    };
    writeFrom(0);
  });
}

/** The answers in `text`; `error` when its bytes are not HTTP/1.1 responses. */
export function responsesIn(text: string): { responses: RawResponse[]; error: string | null } {
  try {
    return { responses: parseResponses(text), error: null };
  } catch (err) {
    return { responses: [], error: (err as Error).message };
  }
}

function tally(text: string): { finals: number; refused: boolean } {
  const { responses } = responsesIn(text);
  const finals = responses.filter((r) => r.status >= 200);
  return { finals: finals.length, refused: finals.some((r) => r.status >= 400) };
}
