import type { EventLevel, EventList, EventView } from '@podgate/protocol';
import type { ControlChange } from './control-api.js';
import { levelOf } from './event-level.js';
import { EventLog } from './event-log.js';

/** The event log, and the listeners (the live feed) told of every change as it happens. */
export class ControlEvents {
  private readonly log = new EventLog();
  private readonly listeners = new Set<(change: ControlChange) => void>();

  since(cursor: number, limit: number): EventList {
    return this.log.since(cursor, limit);
  }

  latest(count: number): EventView[] {
    return this.log.latest(count);
  }

  subscribe(listener: (change: ControlChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  unsubscribeAll(): void {
    this.listeners.clear();
  }

  notify(change: ControlChange): void {
    for (const listener of this.listeners) listener(change);
  }

  /**
   * Appends an event (fields left undefined or '' are dropped, `service` is kept) and tells the
   * listeners. Its level is the rule's (event-level.ts) unless the caller knows better.
   */
  record(event: Omit<EventView, 'id' | 'at' | 'level'> & { at?: number; level?: EventLevel }): EventView {
    const clean: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(event)) if (v !== undefined && v !== '') clean[k] = v;
    clean.service = event.service;
    clean.level = event.level ?? levelOf(event.type, event.reason);
    const full = this.log.append({ at: Date.now(), ...clean } as Omit<EventView, 'id'>);
    this.notify({ kind: 'event', event: full });
    return full;
  }

  /** Grows an event still in the log (a repeat counted into it) and tells the listeners; null when it fell off. */
  update(id: number, fields: Partial<Omit<EventView, 'id' | 'type' | 'service'>>): EventView | null {
    const updated = this.log.update(id, fields);
    if (updated !== null) this.notify({ kind: 'event', event: updated });
    return updated;
  }
}
