import type { ServiceView } from '@podgate/protocol';
import { peerRates, servicePoint, type PeerRates, type ServicePoint } from './rates.js';

/*
 * The last few minutes of each service, kept in the browser: the feed only sends current
 * counters, so rates come from successive views. A point is taken when the traffic counters moved,
 * at most one a second (the feed sends up to 10 changes a second, but the workers' counters reach
 * the primary in batches, so a rate between two views of the same batch would read 0 and the next
 * one double). A view that only changed a state or a DNS time is not a point. A service whose
 * counters stay still for QUIET_MS gets a point anyway, so a service that went quiet drops to 0
 * instead of freezing at its last rate.
 */

export const HISTORY_WINDOW_MS = 5 * 60_000;
export const SAMPLE_INTERVAL_MS = 1000;
// Counters arrive every 0.5-2 s under traffic; still after 5 s means no traffic.
export const QUIET_MS = 5000;

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

interface Entry {
  latest: ServiceView;
  /** The view the last point ended at (or the first view seen). */
  sampled: { view: ServiceView; at: number };
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
  ) {}

  /** A new view of a service at client time `now`; a point when its counters moved and the last point is old enough. */
  observe(view: ServiceView, now: number): void {
    const entry = this.entries.get(view.name);
    if (entry === undefined) {
      this.entries.set(view.name, { latest: view, sampled: { view, at: now }, points: NO_POINTS, peers: NO_PEER_RATES });
      return;
    }
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

  /** Each peer's rates over the last sample interval, by address. */
  peerRates(name: string): ReadonlyMap<string, PeerRates> {
    return this.entries.get(name)?.peers ?? NO_PEER_RATES;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private sample(entry: Entry, now: number): void {
    const { latest, sampled } = entry;
    const elapsed = now - sampled.at;
    const point = servicePoint(sampled.view, latest, elapsed, now);
    const cutoff = now - this.windowMs;
    const kept = entry.points.filter((p) => p.at > cutoff);
    kept.push(point);
    entry.points = kept;
    const before = new Map(sampled.view.peers.map((p) => [p.address, p] as const));
    const peers = new Map<string, PeerRates>();
    for (const peer of latest.peers) peers.set(peer.address, peerRates(before.get(peer.address), peer, elapsed / 1000));
    entry.peers = peers;
    entry.sampled = { view: latest, at: now };
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
