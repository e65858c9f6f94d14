import type { EventList, EventView } from '@podgate/protocol';

/**
 * A bounded log of what happened, numbered so a reader can ask for everything after a cursor.
 * Old events fall off the end; a reader whose cursor is older than the log just gets what is left.
 */
export class EventLog {
  private readonly events: EventView[] = [];
  private nextId = 1;

  constructor(private readonly capacity = 5000) {}

  append(event: Omit<EventView, 'id'>): EventView {
    const full = { id: this.nextId++, ...event } as EventView;
    this.events.push(full);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    return full;
  }

  /**
   * Replaces fields of an event still in the log (a repeat collapsed into it: `count`, `lastAt`)
   * and returns the new version; null when it has fallen off the end. The event keeps its id and
   * place, so ids stay consecutive; readers following `since` see the fields as they were when
   * they read it.
   */
  update(id: number, fields: Partial<Omit<EventView, 'id' | 'type' | 'service'>>): EventView | null {
    const first = this.events[0];
    if (first === undefined) return null;
    const index = id - first.id;
    const old = this.events[index];
    if (old === undefined || old.id !== id) return null;
    const next = { ...old, ...fields } as EventView;
    this.events[index] = next;
    return next;
  }

  since(cursor: number, limit: number): EventList {
    const first = this.events.findIndex((e) => e.id > cursor);
    const page = first === -1 ? [] : this.events.slice(first, first + limit);
    const last = page.at(-1);
    return { events: page, next: last === undefined ? Math.max(cursor, this.nextId - 1) : last.id };
  }

  latest(count: number): EventView[] {
    return this.events.slice(-count);
  }
}
