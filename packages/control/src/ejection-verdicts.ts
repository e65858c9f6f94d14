import type { EventLevel, EventView } from '@podgate/protocol';
import type { ControlEvents } from './control-events.js';
import { LEAVING_REASONS } from './event-level.js';
import { formatMs } from './format-ms.js';

/**
 * Kubernetes takes a terminating pod out of its EndpointSlice as it signals it, and CoreDNS, which
 * watches the API, answers without it within about a second. A pod still listed in the answer to a
 * query sent this long after it failed is not a rollout's lag: it is in rotation, and failing.
 */
export const DNS_SETTLE_MS = 2000;

interface Pending {
  id: number;
  at: number;
  leaving: boolean;
  detail: string;
}

/**
 * Automatic ejections waiting for DNS to say whether their pod was leaving. The ejection is recorded
 * as a `notice`, then settled in place (same id; the live feed sends it again): the pod left DNS,
 * so it was terminating (`routine` when it refused or closed, `notice` when clients waited on its
 * silence); or an answer to a query sent DNS_SETTLE_MS after the ejection still lists it (`alert`).
 */
export class EjectionVerdicts {
  private readonly events: ControlEvents;
  /** By `service address`: each ejection not settled yet (a peer can be ejected again, known dead). */
  private readonly pending = new Map<string, Pending[]>();

  constructor(events: ControlEvents) {
    this.events = events;
  }

  /** An ejection was recorded: a `notice` waits for DNS's word. */
  opened(event: EventView): void {
    if (event.type !== 'peer_ejected' || event.level !== 'notice' || event.address === undefined) return;
    const key = `${event.service} ${event.address}`;
    const list = this.pending.get(key) ?? [];
    list.push({ id: event.id, at: event.at, leaving: event.reason !== undefined && LEAVING_REASONS.has(event.reason), detail: event.detail ?? '' });
    this.pending.set(key, list);
  }

  /** DNS stopped listing the peer (it is removed, or terminating while its requests finish). */
  left(service: string, address: string, at: number): void {
    const key = `${service} ${address}`;
    for (const p of this.pending.get(key) ?? []) {
      const why = p.leaving ? 'a routine termination' : 'clients waited on its silence before it was found';
      this.settle(p, p.leaving ? 'routine' : 'notice', `left DNS ${formatMs(at - p.at)} later: ${why}`);
    }
    this.pending.delete(key);
  }

  /**
   * A DNS answer for `service` landed, to a query sent at `sentAt`; `listed` tells whether a peer is
   * in it. Ejections it can judge and that it still lists are alerts.
   */
  answered(service: string, sentAt: number, listed: (address: string) => boolean, at: number): void {
    const prefix = `${service} `;
    for (const [key, list] of this.pending) {
      if (!key.startsWith(prefix)) continue;
      const address = key.slice(prefix.length);
      const still = listed(address);
      const open = list.filter((p) => {
        if (sentAt < p.at + DNS_SETTLE_MS) return still;
        if (still) this.settle(p, 'alert', `DNS still lists it ${formatMs(at - p.at)} later: a pod in rotation is failing`);
        return false;
      });
      if (open.length === 0) this.pending.delete(key);
      else this.pending.set(key, open);
    }
  }

  /** The peer came back (its probe passed, or an operator restored it): nothing left to judge. */
  returned(service: string, address: string): void {
    this.pending.delete(`${service} ${address}`);
  }

  /** The service is gone. */
  forgetService(service: string): void {
    for (const key of this.pending.keys()) if (key.startsWith(`${service} `)) this.pending.delete(key);
  }

  private settle(p: Pending, level: EventLevel, why: string): void {
    this.events.update(p.id, { level, detail: p.detail === '' ? why : `${p.detail}; ${why}` });
  }
}
