import { memo } from 'react';
import { useNow } from '../hooks/use-now.js';
import { formatUptime } from '../lib/fleet.js';
import { formatDateTime } from '../lib/format.js';

/** How long since `startedAt` (`2 m 5 s`), kept current by the shared clock; the start time on hover. */
export const Uptime = memo(function Uptime({ startedAt }: { startedAt: number }) {
  const now = useNow();
  return <span title={`started ${formatDateTime(startedAt)}`}>{formatUptime(startedAt, now)}</span>;
});
