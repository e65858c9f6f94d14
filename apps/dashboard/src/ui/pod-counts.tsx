import { memo } from 'react';
import { STATE_ORDER, type StateCounts } from '../lib/service-health.js';

/** `3 active · 1 ejected`, zero counts left out; "no pods" when there are none. */
export const PodCounts = memo(function PodCounts({ counts }: { counts: StateCounts }) {
  const parts = STATE_ORDER.filter((state) => counts[state] > 0);
  if (parts.length === 0) return <span className="muted">no pods</span>;
  return (
    <span className="pod-counts">
      {parts.map((state) => (
        <span key={state} className={`count state-${state}`} data-state={state}>
          {counts[state]} {state}
        </span>
      ))}
    </span>
  );
});
