import type { FeedMessage } from '@podgate/protocol';
import { describe, expect, it } from 'vitest';
import { BACKOFF_MAX_MS, LiveFeed, SILENCE_LIMIT_MS, backoffDelay, parseFeedMessage, wsUrl, type FeedStatus, type SocketLike } from '../src/lib/live-feed.js';
import { fleet, service } from './fixtures.js';

class FakeSocket implements SocketLike {
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}
  close(): void {
    this.closed = true;
  }
  send(message: FeedMessage): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006, reason = ''): void {
    this.onclose?.({ code, reason });
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const statuses: FeedStatus[] = [];
  const details: (string | undefined)[] = [];
  const messages: FeedMessage[] = [];
  let now = 0;
  const feed = new LiveFeed({
    url: 'ws://127.0.0.1:9901/api/v1/live',
    token: 'secret-token',
    onMessage: (m) => messages.push(m),
    onStatus: (s, detail) => {
      statuses.push(s);
      details.push(detail);
    },
    openSocket: (url, protocols) => {
      const s = new FakeSocket(url, protocols);
      sockets.push(s);
      return s;
    },
    random: () => 0.5,
    setTimer: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      (h as { cancelled: boolean }).cancelled = true;
    },
    now: () => now,
  });
  const runTimers = (): number[] => {
    const due = timers.splice(0).filter((t) => !t.cancelled);
    for (const t of due) t.fn();
    return due.map((t) => t.ms);
  };
  return { feed, sockets, timers, statuses, details, messages, runTimers, setNow: (t: number) => (now = t) };
}

const snapshot: FeedMessage = { type: 'snapshot', at: 1, services: [service('web')], events: [], fleet: fleet() };

describe('backoffDelay', () => {
  it('starts at 0.5 s, doubles, stops at 10 s, with jitter in the upper half', () => {
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(1, () => 1)).toBe(1000);
    expect(backoffDelay(4, () => 1)).toBe(8000);
    expect(backoffDelay(5, () => 1)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelay(60, () => 1)).toBe(BACKOFF_MAX_MS);
  });
});

describe('LiveFeed', () => {
  it('offers podgate.v1 and the token as a bearer subprotocol, and is live once the snapshot arrived', () => {
    const h = harness();
    h.feed.start();
    expect(h.sockets[0]?.protocols).toEqual(['podgate.v1', 'bearer.secret-token']);
    h.sockets[0]?.onopen?.();
    expect(h.statuses.at(-1)).toBe('reconnecting');
    h.sockets[0]?.send(snapshot);
    expect(h.statuses.at(-1)).toBe('live');
    expect(h.messages).toEqual([snapshot]);
  });

  it('reconnects with growing delays and resets them after a snapshot', () => {
    const h = harness();
    h.feed.start();
    h.sockets[0]?.drop();
    expect(h.statuses.at(-1)).toBe('reconnecting');
    expect(h.runTimers()).toEqual([375]);
    h.sockets[1]?.drop();
    expect(h.runTimers()).toEqual([750]);
    h.sockets[2]?.send(snapshot);
    expect(h.statuses.at(-1)).toBe('live');
    h.sockets[2]?.drop();
    expect(h.runTimers()).toEqual([375]);
    expect(h.sockets).toHaveLength(4);
  });

  it('closes a connection that went silent past three heartbeats and reconnects', () => {
    const h = harness();
    h.feed.start();
    const first = h.sockets[0];
    first?.onopen?.();
    first?.send(snapshot);
    h.setNow(SILENCE_LIMIT_MS + 1);
    h.runTimers(); // the watchdog
    expect(first?.closed).toBe(true);
    expect(h.statuses.at(-1)).toBe('reconnecting');
    h.runTimers(); // the reconnect
    expect(h.sockets).toHaveLength(2);
  });

  it('says why when the server refuses the feed for a connection limit (1013) twice, and retries every 15-30 s, not in a loop', () => {
    const h = harness();
    h.feed.start();
    const reason = 'too many live feed connections for this token (admin.feed.maxConnectionsPerToken: 16)';
    h.sockets[0]?.onopen?.();
    // Once may be this page's own previous connection, still closing: retried as after any loss.
    h.sockets[0]?.drop(1013, reason);
    expect(h.statuses.at(-1)).toBe('reconnecting');
    expect(h.runTimers()).toEqual([375]);
    h.sockets[1]?.drop(1013, reason);
    expect(h.statuses.at(-1)).toBe('refused');
    expect(h.details.at(-1)).toBe(reason);
    // random() = 0.5: three quarters of 30 s.
    expect(h.runTimers()).toEqual([22_500]);
    // Still refused while the retry is in flight: no flicker back to "Reconnecting…".
    expect(h.statuses.at(-1)).toBe('refused');
    h.sockets[2]?.drop(1013, reason);
    expect(h.runTimers()).toEqual([22_500]);
    expect(h.statuses.slice(h.statuses.indexOf('refused'))).toEqual(['refused', 'refused']);
    // A place is free: live again, and the next ordinary loss backs off from the start.
    h.sockets[3]?.send(snapshot);
    expect(h.statuses.at(-1)).toBe('live');
    h.sockets[3]?.drop();
    expect(h.statuses.at(-1)).toBe('reconnecting');
    expect(h.runTimers()).toEqual([375]);
  });

  it('treats a refusal without a reason like one with, and an ordinary loss after it as reconnecting', () => {
    const h = harness();
    h.feed.start();
    h.sockets[0]?.drop(1013, '');
    h.runTimers();
    h.sockets[1]?.drop(1013, '');
    expect(h.statuses.at(-1)).toBe('refused');
    expect(h.details.at(-1)).toBe('the server refused the live feed for now');
    h.runTimers();
    h.sockets[2]?.drop(1006, '');
    expect(h.statuses.at(-1)).toBe('reconnecting');
    // And a refusal after an ordinary loss is again retried once before it is shown.
    h.runTimers();
    h.sockets[3]?.drop(1013, 'limit');
    expect(h.statuses.at(-1)).toBe('reconnecting');
  });

  it('stops for good: no reconnect after stop', () => {
    const h = harness();
    h.feed.start();
    h.feed.stop();
    expect(h.sockets[0]?.closed).toBe(true);
    expect(h.timers.filter((t) => !t.cancelled)).toHaveLength(0);
  });

  it('ignores messages that are not feed messages', () => {
    expect(parseFeedMessage('not json')).toBeNull();
    expect(parseFeedMessage('{"type":"other"}')).toBeNull();
    expect(parseFeedMessage('{"type":"heartbeat","at":1}')).toEqual({ type: 'heartbeat', at: 1 });
  });

  it('passes on fleet messages', () => {
    const message: FeedMessage = { type: 'fleet', fleet: fleet({ name: 'demo', state: 'degraded', error: 'connect ECONNREFUSED 127.0.0.1:6379' }) };
    expect(parseFeedMessage(JSON.stringify(message))).toEqual(message);
  });

  it('builds the feed URL on the page origin, wss under https', () => {
    expect(wsUrl('/api/v1/live', { protocol: 'http:', host: '127.0.0.1:9901' })).toBe('ws://127.0.0.1:9901/api/v1/live');
    expect(wsUrl('/api/v1/live', { protocol: 'https:', host: 'ops.example.com' })).toBe('wss://ops.example.com/api/v1/live');
  });
});
