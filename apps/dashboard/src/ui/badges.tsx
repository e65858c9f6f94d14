import { fleetStateLabel } from '../lib/fleet.js';
import type { Problem } from '../lib/service-health.js';

/** A peer's state, as the API names it. */
export function StateBadge({ state }: { state: string }) {
  return (
    <span className={`badge state-${state}`} data-testid="pod-state">
      {state}
    </span>
  );
}

export function ProblemBadges({ problems }: { problems: readonly Problem[] }) {
  if (problems.length === 0) return <span className="badge ok">OK</span>;
  return (
    <span className="problems">
      {problems.map((p) => (
        <span key={p.kind} className="badge warn" data-problem={p.kind}>
          <span aria-hidden="true">⚠</span> <span className="visually-hidden">Warning: </span>
          {p.text}
        </span>
      ))}
    </span>
  );
}

/** The fleet's state: ok, degraded, connecting, or "not in a fleet" for an instance on its own. */
export function FleetStateBadge({ state }: { state: string }) {
  return (
    <span className={`badge fleet-${state}`} data-testid="fleet-state">
      {fleetStateLabel(state)}
    </span>
  );
}
