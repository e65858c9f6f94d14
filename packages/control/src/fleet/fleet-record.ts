import type { PeerHold } from '@podgate/balancer';

/*
 * What instances of one fleet tell each other through Redis. Each change is written once, under a
 * fleet-wide version (one counter in Redis), and every instance applies, per key, the change with
 * the highest version it has seen: the last acknowledged write wins, whatever order changes arrive
 * in, so instances that saw the same records agree.
 */

/** A change to what operators (or the fleet's own traffic) decided. */
export type FleetChange =
  | { kind: 'service_added'; service: string; input: unknown }
  | { kind: 'service_removed'; service: string }
  | { kind: 'peer_held'; service: string; address: string; hold: PeerHold }
  | { kind: 'peer_restored'; service: string; address: string }
  /** A passive ejection one instance paid for in failed tries; others apply it until `until`. */
  | { kind: 'ejection_hint'; service: string; address: string; reason: string; detail: string; until: number };

export interface FleetRecord {
  /** Fleet-wide, increasing: the order of acknowledged writes. */
  version: number;
  /** The instance that wrote it. */
  instance: string;
  /** Who asked: a token name, or `podgate` for the fleet's own hints. */
  actor: string;
  at: number;
  change: FleetChange;
}

/**
 * The key a change competes on: a service's existence, a peer's manual hold, a peer's ejection
 * hint. A hold and a hint on the same peer do not overwrite each other.
 */
export function recordKey(change: FleetChange): string {
  switch (change.kind) {
    case 'service_added':
    case 'service_removed':
      return `service:${change.service}`;
    case 'peer_held':
    case 'peer_restored':
      return `hold:${change.service}|${change.address}`;
    case 'ejection_hint':
      return `hint:${change.service}|${change.address}`;
  }
}

/**
 * The latest record per key, as this instance knows it. `accept` says whether a record is news
 * (a higher version than the one held for its key); an old or repeated record changes nothing.
 */
export class FleetLedger {
  private readonly latest = new Map<string, FleetRecord>();
  private highest = 0;

  accept(record: FleetRecord): boolean {
    if (record.version > this.highest) this.highest = record.version;
    const key = recordKey(record.change);
    const held = this.latest.get(key);
    if (held !== undefined && held.version >= record.version) return false;
    this.latest.set(key, record);
    return true;
  }

  /** The highest version seen: a Redis whose counter is below it lost data. */
  get highestVersion(): number {
    return this.highest;
  }

  get(key: string): FleetRecord | undefined {
    return this.latest.get(key);
  }

  records(): FleetRecord[] {
    return [...this.latest.values()].sort((a, b) => a.version - b.version);
  }

  clear(): void {
    this.latest.clear();
    this.highest = 0;
  }
}

/** A record as stored in Redis: the version is written by the script, in front of the rest. */
export function parseRecord(text: string): FleetRecord | null {
  try {
    const r = JSON.parse(text) as Partial<FleetRecord>;
    if (typeof r.version !== 'number' || typeof r.instance !== 'string' || typeof r.actor !== 'string' || typeof r.at !== 'number') return null;
    const c = r.change as Partial<FleetChange> | undefined;
    if (c === undefined || typeof c.kind !== 'string' || typeof (c as { service?: unknown }).service !== 'string') return null;
    return r as FleetRecord;
  } catch {
    return null;
  }
}
