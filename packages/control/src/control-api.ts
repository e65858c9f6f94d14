import type { EventList, EventView, FleetView, PeerAction, PeerView, ServiceView } from '@podgate/protocol';
import type { WorkerStats } from '@podgate/proxy';

/** Stable error codes of control-plane operations, with the HTTP status the admin API answers. */
export type ControlErrorCode =
  | 'PODGATE_NOT_FOUND' // 404: unknown service or peer
  | 'PODGATE_CONFLICT' // 409: name taken, route conflict, service from the config file
  | 'PODGATE_INVALID' // 400: a field failed validation (`field` names it)
  | 'PODGATE_STATE_WRITE_FAILED' // 500: the change could not be made durable, so it was not made
  | 'PODGATE_FLEET_UNAVAILABLE'; // 503: the fleet's Redis could not acknowledge the change, so it was not made

const STATUS_OF: Record<ControlErrorCode, number> = {
  PODGATE_NOT_FOUND: 404,
  PODGATE_CONFLICT: 409,
  PODGATE_INVALID: 400,
  PODGATE_STATE_WRITE_FAILED: 500,
  PODGATE_FLEET_UNAVAILABLE: 503,
};

export class ControlError extends Error {
  readonly code: ControlErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  constructor(code: ControlErrorCode, message: string, field?: string) {
    super(message);
    this.code = code;
    this.field = field;
    this.status = STATUS_OF[code];
  }
}

/** What changed, for the live feed: coalesce `service` changes, forward events at once. */
export type ControlChange =
  | { kind: 'service'; name: string }
  | { kind: 'service_removed'; name: string }
  | { kind: 'event'; event: EventView }
  /** The fleet's state or its instances changed. */
  | { kind: 'fleet' };

/**
 * The control plane as the admin API, the live feed and metrics see it. Mutations resolve only
 * once the change is durable (written to the state file) and applied.
 */
export interface ControlApi {
  listServices(): ServiceView[];
  getService(name: string): ServiceView | null;
  /** `input` is the API body (already shape-checked against ServiceInputSchema). */
  addService(input: unknown, actor: string): Promise<ServiceView>;
  removeService(name: string, actor: string): Promise<void>;
  /** Unknown service or peer → PODGATE_NOT_FOUND. Repeating an action is harmless. */
  peerAction(service: string, address: string, action: PeerAction, actor: string): Promise<PeerView>;
  /** Events after cursor `since` (exclusive), oldest first, at most `limit`. */
  events(since: number, limit: number): EventList;
  subscribe(listener: (change: ControlChange) => void): () => void;
  /** The latest stats of every worker (for metrics), and the control plane's own gauges. */
  workerStats(): readonly WorkerStats[];
  /** True once every worker is serving and every service resolved at least once (or failed trying). */
  ready(): boolean;
  /** The fleet this instance belongs to (state `off`: none) and its instances. */
  fleet(): FleetView;
}
