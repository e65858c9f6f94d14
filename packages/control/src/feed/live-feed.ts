import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EventView, FeedMessage, ServiceView } from '@podgate/protocol';
import { WebSocket, WebSocketServer } from 'ws';
import { ControlError, type ControlApi, type ControlChange } from '../control-api.js';
import { normalizeOrigins, originAllowed, refuseUpgrade, requestPath } from './live-feed-upgrade.js';

export interface LiveFeedOptions {
  control: ControlApi;
  /**
   * Returns the caller's name (its token's: connections are counted per name), or null to refuse
   * with 401. podgate passes TokenAuth.authenticateUpgrade, which takes `?token=` and
   * `bearer.<token>` on this upgrade only.
   */
  authenticate: (req: IncomingMessage) => { name: string } | null;
  /** Origins allowed for browser upgrades besides the admin address itself (see originAllowed); a missing Origin (non-browser client) is allowed. */
  allowedOrigins?: readonly string[];
  /**
   * The configured admin host (`admin.listen`'s), a browser origin on which is the admin address
   * itself. Without it, only the address the request came in on (and the loopback names, on
   * loopback) count as the admin address.
   */
  adminHost?: string;
  /** Open feed connections at most, every caller together (`admin.feed.maxConnections`). Default 64. */
  maxConnections?: number;
  /** Open feed connections at most per caller name (`admin.feed.maxConnectionsPerToken`). Default 16. */
  maxConnectionsPerToken?: number;
  /** Coalesced `changes` messages per second at most. Default 10. */
  maxRatePerSecond?: number;
  /** A `heartbeat` message and a ws ping this often; a client that misses two pongs is closed. Default 15 000. */
  heartbeatMs?: number;
  /** A client whose socket buffer exceeds this is skipped, then resynced with a snapshot once it drains below half. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** A skipped client still over the limit after this long is closed. Default 30 000. */
  maxStaleMs?: number;
}

/** What the feed holds now, for metrics and tests. */
export interface LiveFeedStats {
  clients: number;
  /** Clients over maxBufferedBytes, waiting to drain before their resync. */
  stale: number;
  /** Bytes queued in user space for all clients together (the same message is shared, so this overstates memory). */
  bufferedBytes: number;
  /** The largest buffer of one client. */
  largestBufferedBytes: number;
  /** Connections over a limit, closed with 1013 and not gone yet (cut after a second). */
  refusing: number;
}

export const LIVE_FEED_PATH = '/api/v1/live';
/** Defaults of admin.feed.maxConnections and admin.feed.maxConnectionsPerToken (docs/admin-api.md says why). */
export const DEFAULT_MAX_FEED_CONNECTIONS = 64;
export const DEFAULT_MAX_FEED_CONNECTIONS_PER_TOKEN = 16;
/**
 * The close code of a connection refused for a connection limit: 1013 "Try Again Later" (RFC 6455
 * §7.4.2, IANA registry). A browser cannot read the status of a refused handshake (it only sees
 * 1006), so the feed accepts the handshake and closes at once with this code and a reason naming
 * the limit, both of which a page can read from the close event and show.
 */
export const FEED_CLOSE_TRY_AGAIN_LATER = 1013;
// The dashboard shows the last events on connect; older ones are one REST call away (?since=).
const SNAPSHOT_EVENTS = 100;
// Client → server messages are ignored, so nothing legitimate is large.
const MAX_CLIENT_MESSAGE_BYTES = 4096;
// How often skipped clients are checked for having drained (or for being stuck too long).
const STALE_CHECK_MS = 100;
// After close() asks politely, clients that do not answer the close handshake are cut.
const CLOSE_GRACE_MS = 1000;

interface FeedClient {
  readonly ws: WebSocket;
  readonly name: string;
  /** Over maxBufferedBytes: gets nothing until it drains, then a snapshot. */
  stale: boolean;
  staleSince: number;
  /** Pings sent since the last pong. */
  unansweredPings: number;
}

/**
 * The live feed (GET /api/v1/live): a snapshot on connect, each event as it happens, and service
 * changes coalesced to at most maxRatePerSecond messages a second. Every message is built and
 * serialized once and the same bytes are written to every client. A client's only queue is its
 * socket buffer, bounded by maxBufferedBytes plus one message: past that it is skipped and later
 * resynced with a snapshot, so 100 slow clients cost at most 100 × (limit + one message). At
 * most maxConnections clients are held (maxConnectionsPerToken per caller): one more is closed
 * with 1013 and a reason naming the limit, before it gets anything.
 */
export class LiveFeed {
  private readonly control: ControlApi;
  private readonly authenticate: LiveFeedOptions['authenticate'];
  private readonly allowedOrigins: ReadonlySet<string>;
  private readonly flushIntervalMs: number;
  private readonly heartbeatMs: number;
  private readonly maxBufferedBytes: number;
  private readonly maxStaleMs: number;
  private readonly adminHost: string | undefined;
  private readonly maxConnections: number;
  private readonly maxConnectionsPerToken: number;
  private readonly wss: WebSocketServer;
  private readonly all = new Set<FeedClient>();
  /** Open clients per caller name, for maxConnectionsPerToken. */
  private readonly perName = new Map<string, number>();
  /** Handshakes accepted only to be closed with 1013; cut if they do not answer the close within a second. */
  private readonly refusing = new Set<WebSocket>();
  /** Services changed since the last flush; those gone by flush time are sent as removed. */
  private readonly changed = new Set<string>();
  private readonly removed = new Set<string>();
  private readonly recentEvents: EventView[] = [];
  private readonly unsubscribe: () => void;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private flushTimer: NodeJS.Timeout | null = null;
  private staleTimer: NodeJS.Timeout | null = null;
  private lastFlushAt = 0;
  private closing: Promise<void> | null = null;

  constructor(o: LiveFeedOptions) {
    this.control = o.control;
    this.authenticate = o.authenticate;
    const rate = positive(o.maxRatePerSecond ?? 10, 'maxRatePerSecond');
    this.flushIntervalMs = 1000 / rate;
    this.heartbeatMs = positive(o.heartbeatMs ?? 15_000, 'heartbeatMs');
    this.maxBufferedBytes = positive(o.maxBufferedBytes ?? 1024 * 1024, 'maxBufferedBytes');
    this.maxStaleMs = positive(o.maxStaleMs ?? 30_000, 'maxStaleMs');
    this.maxConnections = count(o.maxConnections ?? DEFAULT_MAX_FEED_CONNECTIONS, 'maxConnections');
    this.maxConnectionsPerToken = count(o.maxConnectionsPerToken ?? DEFAULT_MAX_FEED_CONNECTIONS_PER_TOKEN, 'maxConnectionsPerToken');
    this.adminHost = o.adminHost;
    try {
      this.allowedOrigins = normalizeOrigins(o.allowedOrigins ?? []);
    } catch (err) {
      throw new ControlError('PODGATE_INVALID', (err as Error).message, 'allowedOrigins');
    }
    // Compression would cost a deflate per client per message and defeat the shared bytes.
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      handleProtocols: chooseProtocol,
    });
    this.seedEvents();
    this.unsubscribe = this.control.subscribe((change) => this.onChange(change));
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** For http.Server 'upgrade': handles GET /api/v1/live, refuses anything else with a plain HTTP error. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing !== null) return refuseUpgrade(socket, 'PODGATE_UNAVAILABLE', 'the live feed is shutting down');
    if (requestPath(req) !== LIVE_FEED_PATH) return refuseUpgrade(socket, 'PODGATE_NOT_FOUND', 'no WebSocket endpoint at this path');
    // Origin first: a page on a foreign site learns nothing about tokens from the answer.
    if (!originAllowed(req, this.allowedOrigins, this.adminHost)) return refuseUpgrade(socket, 'PODGATE_FORBIDDEN', 'origin not allowed');
    let caller: { name: string } | null;
    try {
      caller = this.authenticate(req);
    } catch {
      return refuseUpgrade(socket, 'PODGATE_INTERNAL', 'authentication failed');
    }
    if (caller === null) return refuseUpgrade(socket, 'PODGATE_UNAUTHORIZED', 'missing or invalid token');
    const name = caller.name;
    // ws answers 400/405/426 itself for requests that are not a valid WebSocket handshake.
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, name));
  }

  get clients(): number {
    return this.all.size;
  }

  /** Open clients of one caller name. */
  clientsOf(name: string): number {
    return this.perName.get(name) ?? 0;
  }

  stats(): LiveFeedStats {
    let stale = 0;
    let bufferedBytes = 0;
    let largestBufferedBytes = 0;
    for (const c of this.all) {
      if (c.stale) stale++;
      const b = c.ws.bufferedAmount;
      bufferedBytes += b;
      largestBufferedBytes = Math.max(largestBufferedBytes, b);
    }
    return { clients: this.all.size, stale, bufferedBytes, largestBufferedBytes, refusing: this.refusing.size };
  }

  /** Closes every client (1001, or cut if it does not answer within a second) and stops the timers. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- clients -------------------------------------------------------------------------------

  private accept(ws: WebSocket, name: string): void {
    if (this.closing !== null) {
      ws.terminate();
      return;
    }
    // Counted here, where the connection exists: no snapshot, no buffer for one over a limit.
    const over = this.limitReached(name);
    if (over !== null) return this.refuse(ws, over);
    const client: FeedClient = { ws, name, stale: false, staleSince: 0, unansweredPings: 0 };
    this.all.add(client);
    this.perName.set(name, this.clientsOf(name) + 1);
    // Errors (a reset, a message over maxPayload) are followed by 'close'; nothing else to do.
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (!this.all.delete(client)) return;
      const left = this.clientsOf(name) - 1;
      if (left > 0) this.perName.set(name, left);
      else this.perName.delete(name);
    });
    ws.on('pong', () => (client.unansweredPings = 0));
    ws.on('message', () => undefined);
    this.send(client, encode(this.snapshot()));
  }

  /** The close reason when `name` may not open another connection now, else null. */
  private limitReached(name: string): string | null {
    // At most 123 bytes (a close frame's reason); each names the key that sets the limit.
    if (this.clientsOf(name) >= this.maxConnectionsPerToken) {
      return `too many live feed connections for this token (admin.feed.maxConnectionsPerToken: ${this.maxConnectionsPerToken})`;
    }
    if (this.all.size >= this.maxConnections) return `too many live feed connections (admin.feed.maxConnections: ${this.maxConnections})`;
    return null;
  }

  /** Closes a just-accepted connection with 1013 and the reason; cuts it if the close is not answered within a second. */
  private refuse(ws: WebSocket, reason: string): void {
    this.refusing.add(ws);
    const cut = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    cut.unref();
    ws.on('error', () => undefined);
    ws.on('close', () => {
      clearTimeout(cut);
      this.refusing.delete(ws);
    });
    ws.close(FEED_CLOSE_TRY_AGAIN_LATER, reason);
  }

  /** Writes shared bytes to one client, unless its buffer is over the limit: then it goes stale. */
  private send(client: FeedClient, data: Buffer): void {
    if (client.stale || client.ws.readyState !== WebSocket.OPEN) return;
    if (client.ws.bufferedAmount > this.maxBufferedBytes) {
      client.stale = true;
      client.staleSince = Date.now();
      this.staleTimer ??= setInterval(() => this.checkStale(), STALE_CHECK_MS);
      this.staleTimer.unref();
      return;
    }
    client.ws.send(data, { binary: false });
  }

  private broadcast(data: Buffer): void {
    for (const c of this.all) this.send(c, data);
  }

  private checkStale(): void {
    const now = Date.now();
    let snapshot: Buffer | null = null;
    let waiting = 0;
    for (const c of this.all) {
      if (!c.stale) continue;
      if (c.ws.bufferedAmount <= this.maxBufferedBytes / 2) {
        c.stale = false;
        snapshot ??= encode(this.snapshot());
        this.send(c, snapshot);
      } else if (now - c.staleSince >= this.maxStaleMs) {
        // A close frame would wait behind the full buffer: cut the connection instead.
        c.ws.terminate();
      } else waiting++;
    }
    if (waiting === 0 && this.staleTimer !== null) {
      clearInterval(this.staleTimer);
      this.staleTimer = null;
    }
  }

  private heartbeat(): void {
    const data = encode({ type: 'heartbeat', at: Date.now() });
    for (const c of this.all) {
      if (c.unansweredPings >= 2) {
        c.ws.terminate();
        continue;
      }
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      c.unansweredPings++;
      c.ws.ping();
      this.send(c, data);
    }
  }

  private async shutdown(): Promise<void> {
    this.unsubscribe();
    clearInterval(this.heartbeatTimer);
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    if (this.staleTimer !== null) clearInterval(this.staleTimer);
    this.flushTimer = this.staleTimer = null;
    for (const ws of this.refusing) ws.terminate();
    const closed = [...this.all].map(
      (c) => new Promise<void>((resolve) => (c.ws.readyState === WebSocket.CLOSED ? resolve() : c.ws.once('close', () => resolve()))),
    );
    for (const c of this.all) {
      if (c.stale) c.ws.terminate();
      else c.ws.close(1001, 'podgate is shutting down');
    }
    const cut = setTimeout(() => {
      for (const c of this.all) c.ws.terminate();
    }, CLOSE_GRACE_MS);
    await Promise.all(closed);
    clearTimeout(cut);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  // ---- changes -------------------------------------------------------------------------------

  private onChange(change: ControlChange): void {
    if (change.kind === 'event') {
      // A repeat collapsed into an event re-sends it with the same id: replace, do not add.
      const index = this.recentEvents.findIndex((e) => e.id === change.event.id);
      if (index !== -1) this.recentEvents[index] = change.event;
      else this.recentEvents.push(change.event);
      if (this.recentEvents.length > SNAPSHOT_EVENTS) this.recentEvents.shift();
      if (this.all.size > 0) this.broadcast(encode({ type: 'event', event: change.event }));
      return;
    }
    if (this.all.size === 0) return; // a client that connects later starts from a snapshot
    if (change.kind === 'fleet') {
      // Rare (a state change, an instance joining or leaving): sent at once, whole.
      this.broadcast(encode({ type: 'fleet', fleet: this.control.fleet() }));
      return;
    }
    if (change.kind === 'service') {
      this.changed.add(change.name);
      this.removed.delete(change.name);
    } else {
      this.changed.delete(change.name);
      this.removed.add(change.name);
    }
    this.scheduleFlush();
  }

  /** One timer for the whole feed: the first change after a quiet spell goes out at once, later ones wait for the interval. */
  private scheduleFlush(): void {
    if (this.flushTimer !== null || this.closing !== null) return;
    const wait = Math.max(0, this.lastFlushAt + this.flushIntervalMs - Date.now());
    this.flushTimer = setTimeout(() => this.flush(), wait);
    this.flushTimer.unref();
  }

  private flush(): void {
    this.flushTimer = null;
    const now = Date.now();
    // Timers may fire a millisecond early against the wall clock; never send faster than the rate.
    if (now < this.lastFlushAt + this.flushIntervalMs) return this.scheduleFlush();
    this.lastFlushAt = now;
    if (this.all.size === 0) {
      this.changed.clear();
      this.removed.clear();
      return;
    }
    const services: ServiceView[] = [];
    const removed = [...this.removed];
    for (const name of this.changed) {
      const view = this.control.getService(name);
      if (view === null) removed.push(name);
      else services.push(view);
    }
    this.changed.clear();
    this.removed.clear();
    if (services.length === 0 && removed.length === 0) return;
    this.broadcast(encode({ type: 'changes', at: now, services, removed }));
  }

  private snapshot(): FeedMessage {
    return { type: 'snapshot', at: Date.now(), services: this.control.listServices(), events: [...this.recentEvents], fleet: this.control.fleet() };
  }

  /** The last events already in the log when the feed starts; from then on the subscription keeps them. */
  private seedEvents(): void {
    let cursor = 0;
    // The log is bounded, so this ends; the guard is against a cursor that does not advance.
    for (let pages = 0; pages < 10_000; pages++) {
      const { events, next } = this.control.events(cursor, 1000);
      for (const e of events) this.recentEvents.push(e);
      if (this.recentEvents.length > SNAPSHOT_EVENTS) this.recentEvents.splice(0, this.recentEvents.length - SNAPSHOT_EVENTS);
      if (events.length === 0 || next <= cursor) break;
      cursor = next;
    }
  }
}

/**
 * Browsers cannot set headers on a WebSocket, so a token may travel as the subprotocol
 * `bearer.<token>`. A browser fails the handshake unless the server picks one of the offered
 * protocols (RFC 6455 §4.1), so pick another one when offered (e.g. `podgate.v1`) and only
 * otherwise echo the token's own protocol back to the client that sent it.
 */
function chooseProtocol(offered: Set<string>): string | false {
  for (const p of offered) if (!p.startsWith('bearer.')) return p;
  return offered.values().next().value ?? false;
}

function encode(message: FeedMessage): Buffer {
  return Buffer.from(JSON.stringify(message));
}

function count(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ControlError('PODGATE_INVALID', `invalid ${field}: expected an integer of at least 1, got ${String(value)}`, field);
  return value;
}

function positive(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new ControlError('PODGATE_INVALID', `invalid ${field}: expected a positive number, got ${String(value)}`, field);
  return value;
}
