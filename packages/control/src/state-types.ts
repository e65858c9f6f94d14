import type { PeerHold } from '@podgate/balancer';

/** What podgate must not forget across restarts: changes operators made through the API. */
export interface PersistedState {
  version: 1;
  /** Services added through the API, as their API body (validated again on load). */
  services: { name: string; input: unknown; addedAt: number; actor: string; instance?: string }[];
  /** Drains and manual ejections, by service and peer address. */
  holds: { service: string; address: string; hold: PeerHold; at: number; actor: string; instance?: string }[];
}

export const EMPTY_STATE: PersistedState = { version: 1, services: [], holds: [] };

/** Where the control plane keeps PersistedState (implemented by state-store.ts). */
export interface StateStorage {
  readonly state: PersistedState;
  /** Makes `next` durable (atomically) before resolving; rejects when it could not. */
  save(next: PersistedState): Promise<void>;
}
