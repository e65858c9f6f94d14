import type { InstanceView } from '@podgate/protocol';
import { memo } from 'react';
import { useFleet } from '../hooks/use-fleet.js';
import { errorMessage } from '../lib/api-client.js';
import { adminHref } from '../lib/fleet.js';
import { FleetStateBadge } from './badges.js';
import { RelativeTime } from './relative-time.js';
import { Uptime } from './uptime.js';

const SINCE_LABELS: Readonly<Record<string, string>> = { ok: 'Connected since', degraded: 'Degraded since', connecting: 'Connecting since' };

const InstanceRow = memo(function InstanceRow({ instance }: { instance: InstanceView }) {
  const href = adminHref(instance.admin);
  return (
    <tr data-testid={`instance-row-${instance.id}`}>
      <th scope="row">
        <code>{instance.id}</code>
        {instance.self && (
          <>
            {' '}
            <span className="badge self" data-testid="this-instance">
              this one
            </span>
          </>
        )}
      </th>
      <td>
        <code>{instance.proxy}</code>
      </td>
      <td>
        {href === null ? (
          <code title="bound to every interface: open it by the instance's own host name">{instance.admin}</code>
        ) : (
          <a href={href} title={`${instance.id}'s dashboard`}>
            <code>{instance.admin}</code>
          </a>
        )}
      </td>
      <td>{instance.version}</td>
      <td>
        <Uptime startedAt={instance.startedAt} />
      </td>
    </tr>
  );
});

/** The instances acting as one through the fleet's Redis, and the fleet's health as this one sees it. */
export function InstancesPage() {
  const fleet = useFleet();
  const view = fleet.data;

  return (
    <>
      <div className="page-head">
        <h1>Instances</h1>
        {view !== undefined && <FleetStateBadge state={view.state} />}
        {view?.error != null && (
          <span className="warn-text" data-testid="fleet-state-error">
            {view.error}
          </span>
        )}
      </div>
      {fleet.isError && view === undefined && (
        <div role="alert" className="alert">
          Could not load the fleet: {errorMessage(fleet.error)}
        </div>
      )}
      {view === undefined ? (
        !fleet.isError && <p aria-busy="true">Loading…</p>
      ) : (
        <>
          {view.state === 'off' ? (
            <p data-testid="fleet-off">
              This instance runs alone: to run several podgate instances as one, give each the same Redis in <code>fleet.redis</code> (and the same{' '}
              <code>fleet.name</code>) in its config; see <code>docs/fleet.md</code>.
            </p>
          ) : (
            <dl className="facts">
              <div>
                <dt>Fleet</dt>
                <dd>
                  <code>{view.name}</code>
                </dd>
              </div>
              <div>
                <dt>{SINCE_LABELS[view.state] ?? 'Since'}</dt>
                <dd>
                  <RelativeTime at={view.since} />
                </dd>
              </div>
              <div>
                <dt title="the highest fleet change this instance has applied">Version applied</dt>
                <dd data-testid="fleet-version">{view.version}</dd>
              </div>
            </dl>
          )}
          {view.state === 'degraded' && (
            <p className="warn-text">
              Redis is away: this instance serves from the last known state and refuses operator changes. The list below is as it was last seen.
            </p>
          )}
          <div className="table-wrap">
            <table aria-label="Instances" className="data">
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  <th scope="col">Proxy</th>
                  <th scope="col">Admin (dashboard)</th>
                  <th scope="col">podgate version</th>
                  <th scope="col">Uptime</th>
                </tr>
              </thead>
              <tbody>
                {view.instances.map((i) => (
                  <InstanceRow key={i.id} instance={i} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
