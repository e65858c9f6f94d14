import { ControlError } from './control-api.js';
import { EMPTY_STATE, type PersistedState, type StateStorage } from './state-types.js';

/**
 * Operator changes (services added or removed through the API, peer holds): one at a time, each
 * reading the persisted state the previous one wrote, and each durable before it is applied.
 */
export class OperatorChanges {
  private readonly store: StateStorage | null;
  private state: PersistedState;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(store: StateStorage | null) {
    this.store = store;
    this.state = store?.state ?? EMPTY_STATE;
  }

  /** What the state file holds (or would, without one). */
  get persisted(): PersistedState {
    return this.state;
  }

  /** Runs `change` once every change queued before it has settled. */
  exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(change, change);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Makes `next` durable; throws PODGATE_STATE_WRITE_FAILED, and keeps the old state, when it could not. */
  async persist(next: PersistedState): Promise<void> {
    if (this.store !== null) {
      try {
        await this.store.save(next);
      } catch (err) {
        throw new ControlError('PODGATE_STATE_WRITE_FAILED', `the change could not be saved, so it was not made: ${(err as Error).message}`);
      }
    }
    this.state = next;
  }
}
