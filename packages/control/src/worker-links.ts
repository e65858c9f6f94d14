import type { ToWorker, WorkerStats } from '@podgate/proxy';

interface WorkerLink {
  send: (message: ToWorker) => void;
  stats: WorkerStats | null;
}

/** Key of one peer of one service in the sums over workers. */
export function peerKey(service: string, address: string): string {
  return `${service} ${address}`;
}

/** The workers attached to the primary: how to reach each, and the stats each sent last. */
export class WorkerLinks {
  private readonly links = new Map<number, WorkerLink>();

  get size(): number {
    return this.links.size;
  }

  ids(): IterableIterator<number> {
    return this.links.keys();
  }

  attach(id: number, send: (message: ToWorker) => void): void {
    this.links.set(id, { send, stats: null });
  }

  detach(id: number): void {
    this.links.delete(id);
  }

  send(id: number, message: ToWorker): void {
    this.links.get(id)?.send(message);
  }

  broadcast(message: ToWorker): void {
    for (const w of this.links.values()) w.send(message);
  }

  /** Keeps a worker's new stats; returns its previous ones (null: none yet), or undefined when no worker `id` is attached. */
  swapStats(id: number, stats: WorkerStats): WorkerStats | null | undefined {
    const link = this.links.get(id);
    if (link === undefined) return undefined;
    const before = link.stats;
    link.stats = stats;
    return before;
  }

  stats(): readonly WorkerStats[] {
    const out: WorkerStats[] = [];
    for (const w of this.links.values()) if (w.stats !== null) out.push(w.stats);
    return out;
  }

  /** At least one worker is attached, and every one has sent its stats. */
  allReporting(): boolean {
    if (this.links.size === 0) return false;
    for (const w of this.links.values()) if (w.stats === null) return false;
    return true;
  }

  /** Requests in flight on each peer, summed over the workers (by peerKey). */
  inFlight(): Map<string, number> {
    const totals = new Map<string, number>();
    for (const stats of this.stats()) {
      for (const s of stats.services)
        for (const p of s.peers) {
          const key = peerKey(s.name, p.address);
          totals.set(key, (totals.get(key) ?? 0) + p.inFlight);
        }
    }
    return totals;
  }

  /** Each peer's response-header latency histogram, summed over the workers (by peerKey). */
  latency(): Map<string, number[]> {
    const sums = new Map<string, number[]>();
    for (const stats of this.stats()) {
      for (const s of stats.services)
        for (const p of s.peers) {
          const key = peerKey(s.name, p.address);
          const sum = sums.get(key) ?? new Array<number>(p.latency.length).fill(0);
          for (let i = 0; i < p.latency.length; i++) sum[i] = (sum[i] ?? 0) + (p.latency[i] ?? 0);
          sums.set(key, sum);
        }
    }
    return sums;
  }
}
