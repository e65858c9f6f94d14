import { WebSocket } from 'undici';

/*
 * Dashboard-like clients of podgate's live feed (GET /api/v1/live, docs/admin-api.md): each opens
 * the WebSocket with `Authorization: Bearer <viewer token>` on the upgrade, reads every message
 * and keeps count. undici's WebSocket answers the feed's pings itself. A close the soak did not
 * ask for is an error (the client then reconnects, a few times at most, as the dashboard does).
 */

export interface FeedClientReport {
  /** Messages by type: snapshot, event, changes, heartbeat. */
  byType: Record<string, number>;
  /** Distinct event ids seen in `event` messages (not counting those in snapshots). */
  eventIds: number;
  bytes: number;
  /** Opens that reached `open`. */
  opens: number;
  /** Closes the soak did not ask for, as `code reason`. */
  unexpectedCloses: string[];
  /** Handshake or socket errors. */
  errors: string[];
  /** Whether the first message after each open was a snapshot. */
  snapshotFirst: boolean;
  /** How many messages could not be parsed as JSON with a `type`. */
  malformed: number;
}

export interface FeedReport {
  clients: number;
  perClient: FeedClientReport[];
  /** Sum of unexpected closes, errors and malformed messages: must be 0. */
  problems: number;
}

// Reconnects of one client at most (each after a second); past it the client stays closed.
const MAX_RECONNECTS = 5;

class FeedClient {
  readonly report: FeedClientReport = { byType: {}, eventIds: 0, bytes: 0, opens: 0, unexpectedCloses: [], errors: [], snapshotFirst: true, malformed: 0 };
  readonly #url: string;
  readonly #token: string;
  readonly #eventIds = new Set<number>();
  #ws: WebSocket | null = null;
  #closing = false;
  #reconnects = 0;
  #firstAfterOpen = false;
  #opened: (() => void) | null = null;
  #closed: (() => void) | null = null;

  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  /** Resolves once the snapshot arrived, or rejects after timeoutMs. */
  open(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `live feed: no snapshot within ${timeoutMs} ms (${[...this.report.errors.map((e) => `error ${e}`), ...this.report.unexpectedCloses.map((c) => `closed ${c}`)].join('; ') || 'no error, no close'})`,
            ),
          ),
        timeoutMs,
      );
      this.#opened = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#connect();
    });
  }

  #connect(): void {
    const ws = new WebSocket(this.#url, { headers: { authorization: `Bearer ${this.#token}` } });
    this.#ws = ws;
    this.#firstAfterOpen = true;
    ws.addEventListener('open', () => this.report.opens++);
    ws.addEventListener('message', (e) => {
      const data = typeof e.data === 'string' ? e.data : Buffer.from(e.data as ArrayBuffer).toString('utf8');
      this.report.bytes += data.length;
      let type = '';
      let id: number | undefined;
      try {
        const m = JSON.parse(data) as { type?: unknown; event?: { id?: unknown } };
        type = typeof m.type === 'string' ? m.type : '';
        if (typeof m.event?.id === 'number') id = m.event.id;
      } catch {
        // counted below
      }
      if (type === '') {
        this.report.malformed++;
        return;
      }
      if (this.#firstAfterOpen && type !== 'snapshot') this.report.snapshotFirst = false;
      this.#firstAfterOpen = false;
      this.report.byType[type] = (this.report.byType[type] ?? 0) + 1;
      if (type === 'event' && id !== undefined && !this.#eventIds.has(id)) {
        this.#eventIds.add(id);
        this.report.eventIds = this.#eventIds.size;
      }
      if (type === 'snapshot') {
        this.#opened?.();
        this.#opened = null;
      }
    });
    ws.addEventListener('error', (e) => {
      const err = (e as unknown as { error?: { message?: string } }).error;
      if (!this.#closing) this.report.errors.push(err?.message ?? 'error');
    });
    ws.addEventListener('close', (e) => {
      this.#ws = null;
      if (this.#closing) {
        this.#closed?.();
        return;
      }
      this.report.unexpectedCloses.push(`${e.code} ${e.reason}`.trim());
      if (this.#reconnects < MAX_RECONNECTS) {
        this.#reconnects++;
        setTimeout(() => {
          if (!this.#closing) this.#connect();
        }, 1000).unref();
      }
    });
  }

  /** Closes with 1000 and waits for the close (at most timeoutMs, then it is left to the GC). */
  close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    const ws = this.#ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#closed = () => {
        clearTimeout(timer);
        resolve();
      };
      ws.close(1000, 'soak over');
    });
  }
}

export class FeedClients {
  readonly #clients: FeedClient[];

  /** Client i uses tokens[i % tokens.length]. */
  constructor(url: string, tokens: readonly string[], count: number) {
    this.#clients = Array.from({ length: count }, (_, i) => new FeedClient(url, tokens[i % tokens.length] as string));
  }

  /** Opens every client; resolves when each has its snapshot. */
  async open(timeoutMs: number): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.open(timeoutMs)));
  }

  async close(timeoutMs: number): Promise<FeedReport> {
    await Promise.all(this.#clients.map((c) => c.close(timeoutMs)));
    return this.report();
  }

  report(): FeedReport {
    const perClient = this.#clients.map((c) => structuredClone(c.report));
    const problems = perClient.reduce((n, r) => n + r.unexpectedCloses.length + r.errors.length + r.malformed + (r.snapshotFirst ? 0 : 1), 0);
    return { clients: perClient.length, perClient, problems };
  }
}
