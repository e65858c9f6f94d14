import { useFleet } from '../hooks/use-fleet.js';
import { isFleetDegraded } from '../lib/fleet.js';
import { RelativeTime } from './relative-time.js';

/**
 * Under the top bar on every page while the fleet's Redis is away: this instance keeps serving, but
 * the server refuses every drain, eject, restore and service change (503) until Redis is back, and
 * the operator should know before clicking.
 */
export function FleetBanner() {
  const fleet = useFleet().data;
  if (!isFleetDegraded(fleet)) return null;
  return (
    <div className="fleet-banner" role="alert" data-testid="fleet-degraded">
      <span aria-hidden="true">⚠</span>
      <span>
        <strong>{fleet.name === null ? 'Fleet' : `Fleet ${fleet.name}`} degraded</strong> since <RelativeTime at={fleet.since} />
        {fleet.error !== null && (
          <>
            : <span data-testid="fleet-error">{fleet.error}</span>
          </>
        )}
        . Pods are still served from the last known state; drains, ejections, restores and service changes are refused until the fleet&apos;s Redis is back.{' '}
        <a href="#/instances">Instances</a>
      </span>
    </div>
  );
}
