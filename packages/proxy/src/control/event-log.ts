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
