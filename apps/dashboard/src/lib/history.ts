import type { ServiceView } from '@podgate/protocol';
import { maxPeerP99, peerRates, servicePoint, type PeerRates, type ServicePoint } from './rates.js';

/*
 * The last few minutes of each service, kept in the browser: the feed only sends current
 * counters, so rates come from successive views. A point is taken when the traffic counters moved,
 * at most one a second, and for a service whose counters stayed still for QUIET_MS (so a service
 * that went quiet drops to 0 instead of freezing at its last rate). A view that only changed a
 * state or a DNS time is not a point.
 *
 * Each point's rates are over the last RATE_WINDOW_MS, from one arrival of new counters to another.
 * Counters reach the page in batches: each worker sends its own every 500 ms (DataPlaneAgent's
 * STATS_INTERVAL_MS) and the feed coalesces changes up to 100 ms. Over one second, one batch more or
 * less is half the rate either way: at a steady 20 req/s the requests/s line sawed between 10 and 32.
 * Over 10 s, with both ends of the window at an arrival, it is within a few per cent.
 */

export const HISTORY_WINDOW_MS = 5 * 60_000;
export const SAMPLE_INTERVAL_MS = 1000;
// Counters arrive every 0.5-2 s under traffic; still after 5 s means no traffic.
export const QUIET_MS = 5000;
export const RATE_WINDOW_MS = 10_000;

/** Whether any traffic counter differs between two views of a service. */
export function countersMoved(a: ServiceView, b: ServiceView): boolean {
  if (a.requests !== b.requests || a.retries !== b.retries) return true;
  if (totalOf(a.responses) !== totalOf(b.responses)) return true;
  let failuresA = 0;
  let failuresB = 0;
  for (const p of a.peers) failuresA += totalOf(p.errors);
  for (const p of b.peers) failuresB += totalOf(p.errors);
  return failuresA !== failuresB;
}

function totalOf(counts: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(counts)) n += v;
  return n;
}

const NO_PEER_RATES: ReadonlyMap<string, PeerRates> = new Map();
const NO_POINTS: readonly ServicePoint[] = [];

/** A view as it arrived, at client time `at`. */
interface Mark {
  at: number;
  view: ServiceView;
}

interface Entry {
  latest: ServiceView;
  /** Views whose counters had moved, oldest first (the first view seen too): the ends of rate windows. */
  marks: Mark[];
  /** The view the last point was taken at (or the first view seen). */
  sampled: Mark;
  points: readonly ServicePoint[];
  peers: ReadonlyMap<string, PeerRates>;
}

export class ServiceHistory {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly windowMs = HISTORY_WINDOW_MS,
    private readonly intervalMs = SAMPLE_INTERVAL_MS,
    private readonly quietMs = QUIET_MS,
    private readonly rateWindowMs = RATE_WINDOW_MS,
  ) {}

  /** A new view of a service at client time `now`; a point when its counters moved and the last point is old enough. */
  observe(view: ServiceView, now: number): void {
    const entry = this.entries.get(view.name);
    if (entry === undefined) {
      const first = { view, at: now };
      this.entries.set(view.name, { latest: view, marks: [first], sampled: first, points: NO_POINTS, peers: NO_PEER_RATES });
      return;
    }
    const last = entry.marks.at(-1);
    if (last === undefined || countersMoved(last.view, view)) entry.marks.push({ at: now, view });
    entry.latest = view;
    if (this.due(entry, now)) {
      this.sample(entry, now);
      this.emit();
    }
  }

  /** Takes the points that are due: moved counters held back by the interval, and quiet services. */
  tick(now: number): void {
    let changed = false;
    for (const entry of this.entries.values()) {
      if (this.due(entry, now)) {
        this.sample(entry, now);
        changed = true;
      }
    }
    if (changed) this.emit();
  }

  private due(entry: Entry, now: number): boolean {
    const elapsed = now - entry.sampled.at;
    if (elapsed >= this.quietMs) return true;
    return elapsed >= this.intervalMs && countersMoved(entry.sampled.view, entry.latest);
  }

  /** Forgets services not in `names` (after a snapshot). */
  retain(names: ReadonlySet<string>): void {
    let changed = false;
    for (const name of this.entries.keys()) {
      if (!names.has(name)) {
        this.entries.delete(name);
        changed = true;
      }
    }
    if (changed) this.emit();
  }

  remove(name: string): void {
    if (this.entries.delete(name)) this.emit();
  }

  /** Points of the last window, oldest first; the same array until a point is added. */
  points(name: string): readonly ServicePoint[] {
    return this.entries.get(name)?.points ?? NO_POINTS;
  }

  latestPoint(name: string): ServicePoint | undefined {
    return this.entries.get(name)?.points.at(-1);
  }

  /** Each peer's rates over the last rate window, by address. */
  peerRates(name: string): ReadonlyMap<string, PeerRates> {
    return this.entries.get(name)?.peers ?? NO_PEER_RATES;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private sample(entry: Entry, now: number): void {
    const { latest, marks } = entry;
    const arrived = marks.at(-1) ?? entry.sampled;
    // Under traffic the window ends at the last arrival; once quiet, at now, so the rate runs down to 0.
    const end = now - arrived.at < this.quietMs ? arrived : { at: now, view: latest };
    let from = 0;
    while (from + 1 < marks.length && (marks[from + 1]?.at ?? Infinity) <= end.at - this.rateWindowMs) from++;
    // Later windows start no earlier than this one.
    if (from > 0) marks.splice(0, from);
    const start = marks[0] ?? end;
    const elapsed = end.at - start.at;
    const point: ServicePoint = { ...servicePoint(start.view, end.view, elapsed, now), p99Ms: maxPeerP99(latest) };
    const cutoff = now - this.windowMs;
    const kept = entry.points.filter((p) => p.at > cutoff);
    kept.push(point);
    entry.points = kept;
    const before = new Map(start.view.peers.map((p) => [p.address, p] as const));
    const after = new Map(end.view.peers.map((p) => [p.address, p] as const));
    const peers = new Map<string, PeerRates>();
    // Every peer listed now; one that came after the window's end has moved no counter yet.
    for (const peer of latest.peers) peers.set(peer.address, peerRates(before.get(peer.address), after.get(peer.address) ?? peer, elapsed / 1000));
    entry.peers = peers;
    entry.sampled = { view: latest, at: now };
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
