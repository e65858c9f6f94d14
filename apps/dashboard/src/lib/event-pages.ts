import type { EventView } from '@podgate/protocol';

/*
 * Paging back through the audit log. The API only pages forward (`since` = the last id seen,
 * answers ids above it), and ids are consecutive, so the page before the oldest event shown is the
 * `limit` ids below it.
 */

/** The request for the events just before the oldest one held, or null when event 1 is held. */
export function olderPage(newestFirst: readonly EventView[], pageSize: number): { since: number; limit: number } | null {
  const oldest = newestFirst.at(-1);
  if (oldest === undefined || oldest.id <= 1) return null;
  const since = Math.max(0, oldest.id - 1 - pageSize);
  return { since, limit: oldest.id - 1 - since };
}
