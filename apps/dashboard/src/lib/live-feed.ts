import type { FeedMessage } from '@podgate/protocol';

/*
 * The live feed's connection: one WebSocket, authenticated by the `bearer.<token>` subprotocol (a
 * browser cannot set headers on a WebSocket). A lost connection is retried with exponential
 * backoff, 0.5 s doubling to 10 s, with jitter so many dashboards do not reconnect in step after a
 * restart; the snapshot sent on each connect resynchronises the cache.
 *
 * A connection the server closes with 1013 (try again later) was over one of its connection
 * limits (admin.feed.maxConnections, admin.feed.maxConnectionsPerToken). Once may be this page's
 * own previous connection still closing (a reload, a remount): retried as after any loss. Twice in
 * a row does not clear up in a second, so the page says why, with the server's reason, and retries
 * every 15-30 s until a place is free, rather than reconnecting in a loop.
 */

/**
 * `live` from a snapshot until the connection is lost; `reconnecting` before and after;
 * `refused` while the server turns the feed away for a connection limit (the reason comes with it).
 */
export type FeedStatus = 'live' | 'reconnecting' | 'refused';

/** The close code podgate's feed uses for a connection over a limit (RFC 6455 "Try Again Later"). */
export const CLOSE_TRY_AGAIN_LATER = 1013;
export const REFUSED_RETRY_MS = 30_000;

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 10_000;
// The server sends a heartbeat every 15 s; three missed means the connection is dead even if the
// socket has not noticed (a laptop that slept, a proxy that dropped it).
export const SILENCE_LIMIT_MS = 45_000;

/** Delay before reconnect attempt `attempt` (0-based): half the capped exponential plus a random half. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** ws(s)://host/path for a path on the page's own origin (`location` is window.location in the page). */
export function wsUrl(path: string, location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}

const MESSAGE_TYPES = new Set(['snapshot', 'changes', 'event', 'fleet', 'heartbeat']);

/** A feed message, or null for anything that is not one. */
export function parseFeedMessage(data: unknown): FeedMessage | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' && MESSAGE_TYPES.has(type) ? (value as FeedMessage) : null;
}

/**
 * The part of a WebSocket used here. This module stays free of DOM types (it is tested in Node);
 * the page adapts the browser's WebSocket to it (hooks/browser-socket.ts).
 */
export interface SocketLike {
  onopen: (() => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: (() => void) | null;
  close(code?: number, reason?: string): void;
}

export interface LiveFeedOptions {
  url: string;
  token: string;
  onMessage: (message: FeedMessage) => void;
  /** `detail` is the server's reason with `refused`. */
  onStatus: (status: FeedStatus, detail?: string) => void;
  openSocket: (url: string, protocols: string[]) => SocketLike;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  now?: () => number;
}

export class LiveFeed {
  private socket: SocketLike | null = null;
  private attempt = 0;
  private retryTimer: unknown = null;
  private watchdog: unknown = null;
  private lastMessageAt = 0;
  private stopped = false;
  /** Connections in a row the server closed with 1013; from the second on, the page says so. */
  private refusals = 0;
  private readonly open: (url: string, protocols: string[]) => SocketLike;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly now: () => number;

  constructor(private readonly options: LiveFeedOptions) {
    this.open = options.openSocket;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      socket.onclose = null;
      socket.close(1000, 'dashboard closed');
    }
  }

  private connect(): void {
    // While refused, keep saying why until the retry is answered.
    if (this.refusals < 2) this.options.onStatus('reconnecting');
    let socket: SocketLike;
    try {
      socket = this.open(this.options.url, ['podgate.v1', `bearer.${this.options.token}`]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onmessage = (ev) => {
      const message = parseFeedMessage(ev.data);
      if (message === null) return;
      this.lastMessageAt = this.now();
      if (message.type === 'snapshot') {
        // Synced again: the next loss starts the backoff over.
        this.attempt = 0;
        this.refusals = 0;
        this.options.onMessage(message);
        this.options.onStatus('live');
        return;
      }
      this.options.onMessage(message);
    };
    socket.onopen = () => {
      this.lastMessageAt = this.now();
      this.armWatchdog();
    };
    socket.onerror = () => {
      // A close event follows; reconnecting is handled there.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (ev.code === CLOSE_TRY_AGAIN_LATER && ++this.refusals >= 2) {
        this.refuse(ev.reason === '' ? 'the server refused the live feed for now' : ev.reason);
        return;
      }
      if (ev.code !== CLOSE_TRY_AGAIN_LATER) this.refusals = 0;
      this.scheduleReconnect();
    };
  }

  /** Over a server limit: say why, and retry in 15-30 s (the jitter spreads the tabs that were refused together). */
  private refuse(reason: string): void {
    this.clearTimers();
    if (this.stopped) return;
    this.options.onStatus('refused', reason);
    const random = this.options.random ?? Math.random;
    this.retryTimer = this.setTimer(
      () => {
        this.retryTimer = null;
        if (!this.stopped) this.connect();
      },
      REFUSED_RETRY_MS / 2 + random() * (REFUSED_RETRY_MS / 2),
    );
  }

  private scheduleReconnect(): void {
    this.clearTimers();
    if (this.stopped) return;
    this.options.onStatus('reconnecting');
    const delay = backoffDelay(this.attempt, this.options.random);
    this.attempt++;
    this.retryTimer = this.setTimer(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private armWatchdog(): void {
    if (this.watchdog !== null) this.clearTimer(this.watchdog);
    this.watchdog = this.setTimer(() => {
      this.watchdog = null;
      const socket = this.socket;
      if (socket === null || this.stopped) return;
      if (this.now() - this.lastMessageAt >= SILENCE_LIMIT_MS) {
        this.socket = null;
        socket.onclose = null;
        socket.close(4000, 'no heartbeat');
        this.scheduleReconnect();
      } else {
        this.armWatchdog();
      }
    }, SILENCE_LIMIT_MS / 3);
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) this.clearTimer(this.retryTimer);
    if (this.watchdog !== null) this.clearTimer(this.watchdog);
    this.retryTimer = null;
    this.watchdog = null;
  }
}
