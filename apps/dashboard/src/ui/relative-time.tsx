import { memo } from 'react';
import { useNow } from '../hooks/use-now.js';
import { formatDateTime, formatRelative } from '../lib/format.js';

/** `12 s ago` / `in 30 s`, kept current by the shared clock; the exact time on hover. */
export const RelativeTime = memo(function RelativeTime({ at }: { at: number | null }) {
  const now = useNow();
  if (at === null) return <span className="muted">–</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={formatDateTime(at)}>
      {formatRelative(at, now)}
    </time>
  );
});
