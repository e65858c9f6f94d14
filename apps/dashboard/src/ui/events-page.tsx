import type { EventView } from '@podgate/protocol';
import { useQueryClient } from '@tanstack/react-query';
import { memo, useState } from 'react';
import { useSession } from '../hooks/session-context.js';
import { useEvents } from '../hooks/use-services.js';
import { errorMessage } from '../lib/api-client.js';
import { eventsKey, mergeEvents } from '../lib/feed-cache.js';
import { olderPage } from '../lib/event-pages.js';
import { formatDateTime } from '../lib/format.js';
import { serviceHref } from '../lib/hash-route.js';
import { repeatText } from '../lib/service-health.js';

const PAGE = 100;

const EventRow = memo(function EventRow({ event }: { event: EventView }) {
  return (
    <tr>
      <td>
        <time dateTime={new Date(event.at).toISOString()}>{formatDateTime(event.at)}</time>
      </td>
      <td>
        <span className="event-type">{event.type}</span>
      </td>
      <td>{event.service === '' ? <span className="muted">–</span> : <a href={serviceHref(event.service)}>{event.service}</a>}</td>
      <td>{event.address === undefined ? <span className="muted">–</span> : <code>{event.address}</code>}</td>
      <td>{event.actor ?? <span className="muted">–</span>}</td>
      <td>
        {[event.state === undefined ? null : `→ ${event.state}`, event.reason, event.detail, repeatText(event, formatDateTime)]
          .filter((x) => x !== null && x !== undefined)
          .join(' · ')}
      </td>
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
        <table aria-label="Events" className="data">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Type</th>
              <th scope="col">Service</th>
              <th scope="col">Address</th>
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
