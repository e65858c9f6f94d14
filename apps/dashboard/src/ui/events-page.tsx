import type { EventView } from '@podgate/protocol';
import { useQueryClient } from '@tanstack/react-query';
import { memo, useState } from 'react';
import { useSession } from '../hooks/session-context.js';
import { useEvents } from '../hooks/use-services.js';
import { errorMessage } from '../lib/api-client.js';
import { eventsKey, mergeEvents } from '../lib/feed-cache.js';
import { olderPage } from '../lib/event-pages.js';
import { formatDateTime, formatEventTime } from '../lib/format.js';
import { serviceHref } from '../lib/hash-route.js';
import { eventStateText, repeatText } from '../lib/service-health.js';

const PAGE = 100;

// Red for what needs a person, amber for what is worth a look if it repeats, plain for routine:
// the server's `level` (a rollout's ejections are routine). The palette's colours, inline.
const LEVEL_STYLE: Record<string, { color: string }> = { notice: { color: 'var(--warn)' }, alert: { color: 'var(--bad)' } };
const LEVEL_WORDS: Record<string, string> = { notice: 'worth a look if it repeats', alert: 'needs a person' };

const EventRow = memo(function EventRow({ event }: { event: EventView }) {
  const words = LEVEL_WORDS[event.level];
  return (
    <tr data-level={event.level}>
      <td>
        {/* Today's events by the clock alone: the date would take Detail's room on every line. */}
        <time dateTime={new Date(event.at).toISOString()} title={formatDateTime(event.at)}>
          {formatEventTime(event.at, Date.now())}
        </time>
      </td>
      <td>
        <span className="event-type" style={LEVEL_STYLE[event.level]}>
          {event.type}
        </span>
        {words !== undefined && (
          <div className="sub" style={LEVEL_STYLE[event.level]}>
            {words}
          </div>
        )}
      </td>
      <td>
        {event.service === '' ? <span className="muted">–</span> : <a href={serviceHref(event.service)}>{event.service}</a>}
        {event.address !== undefined && (
          <div className="sub">
            <code>{event.address}</code>
          </div>
        )}
      </td>
      <td>{event.actor ?? <span className="muted">–</span>}</td>
      <td>{[eventStateText(event), event.reason, event.detail, repeatText(event, formatDateTime)].filter((x) => x !== null && x !== undefined).join(' · ')}</td>
    </tr>
  );
});

/** The audit log: who did what and when, newest first; older pages on demand. */
export function EventsPage() {
  const { api } = useSession();
  const client = useQueryClient();
  const events = useEvents();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [exhausted, setExhausted] = useState(false);
  const list = events.data;
  const page = list === undefined ? null : olderPage(list, PAGE);

  const loadOlder = async () => {
    if (page === null) return;
    setLoading(true);
    setError(null);
    try {
      const result = await api.events(page.since, page.limit);
      const before = list?.at(-1)?.id;
      const merged = client.setQueryData<EventView[]>(eventsKey, (old) => mergeEvents(old, result.events));
      // Older events may have fallen off the server's log: a page that reaches no further back ends the paging.
      if (before === undefined || (merged?.at(-1)?.id ?? before) >= before) setExhausted(true);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };

  return (
    <>
      <h1>Events</h1>
      <p className="muted">Pods added and removed, ejections and returns, DNS failures, and every operator action with who did it.</p>
      {list === undefined && <p aria-busy="true">Waiting for the live feed…</p>}
      <div className="table-wrap">
        <table aria-label="Events" className="data events">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Type</th>
              <th scope="col">Service and pod</th>
              <th scope="col">Actor</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {(list ?? []).map((e) => (
              <EventRow key={e.id} event={e} />
            ))}
          </tbody>
        </table>
      </div>
      {error !== null && (
        <div role="alert" className="alert">
          Could not load older events: {errorMessage(error)}
        </div>
      )}
      {list !== undefined &&
        (page === null || exhausted ? (
          <p className="muted">{list.length === 0 ? 'No events yet.' : 'That is the oldest event podgate keeps.'}</p>
        ) : (
          <button type="button" onClick={() => void loadOlder()} disabled={loading}>
            {loading ? 'Loading…' : 'Load older events'}
          </button>
        ))}
    </>
  );
}
