import type { EventView } from '@podgate/protocol';
import { memo, useMemo, useState } from 'react';
import { useEvents } from '../hooks/use-services.js';
import { formatClock, formatDateTime } from '../lib/format.js';
import { eventStateText, repeatText } from '../lib/service-health.js';

const SHOWN = 50;

/**
 * An event's colour: red for what needs a person, amber for what is worth a look if it repeats
 * (the server's `level`), then by kind: a rollout's routine ejections are not failures.
 */
function tone(event: EventView): string {
  if (event.level === 'alert') return 'bad';
  if (event.level === 'notice') return 'notice';
  switch (event.type) {
    case 'peer_added':
    case 'peer_returned':
    case 'peer_restored':
    case 'service_added':
    case 'panic_left':
    case 'dns_recovered':
      return 'good';
    case 'operator_action':
      return 'operator';
    default:
      return 'neutral';
  }
}

// The stylesheet has no amber tone for timeline items, nor a red text: the palette's colours, inline.
const NOTICE_STYLE = { borderLeftColor: 'var(--warn)' } as const;
const ALERT_TEXT_STYLE = { color: 'var(--bad)' } as const;

const TimelineItem = memo(function TimelineItem({ event }: { event: EventView }) {
  const repeated = repeatText(event, formatClock);
  const stateText = eventStateText(event);
  return (
    <li className={`timeline-item tone-${tone(event)}`} style={event.level === 'notice' ? NOTICE_STYLE : undefined} data-level={event.level}>
      <time dateTime={new Date(event.at).toISOString()} title={formatDateTime(event.at)}>
        {formatClock(event.at)}
      </time>
      <span className="event-type">{event.type}</span>
      {event.level === 'alert' && <strong style={ALERT_TEXT_STYLE}>needs a person</strong>}
      {event.address !== undefined && <code>{event.address}</code>}
      {stateText !== null && <span className="muted">{stateText}</span>}
      {event.reason !== undefined && <span className="reason">{event.reason}</span>}
      {event.actor !== undefined && <span className="actor">by {event.actor}</span>}
      {event.detail !== undefined && <span className="muted detail">{event.detail}</span>}
      {repeated !== null && (
        <span className="repeat" title={event.lastAt === undefined ? undefined : `last at ${formatDateTime(event.lastAt)}`}>
          {repeated}
        </span>
      )}
    </li>
  );
});

/** The service's events, newest first, as they arrive on the feed. */
export function RolloutTimeline({ service }: { service: string }) {
  const events = useEvents();
  const [all, setAll] = useState(false);
  const mine = useMemo(() => (events.data ?? []).filter((e) => e.service === service), [events.data, service]);
  const shown = all ? mine : mine.slice(0, SHOWN);
  return (
    <section className="card timeline" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Rollout timeline</h2>
      {events.data === undefined && <p className="muted">Waiting for the live feed…</p>}
      <ol aria-label="Rollout timeline" className="timeline-list">
        {shown.map((e) => (
          <TimelineItem key={e.id} event={e} />
        ))}
      </ol>
      {events.data !== undefined && mine.length === 0 && <p className="muted">No events for this service yet.</p>}
      {!all && mine.length > SHOWN && (
        <button type="button" className="link-button" onClick={() => setAll(true)}>
          Show all {mine.length} events
        </button>
      )}
    </section>
  );
}
