import type { PeerView } from '@podgate/protocol';
import { memo, useMemo } from 'react';
import { useCanOperate } from '../hooks/session-context.js';
import { useFleet } from '../hooks/use-fleet.js';
import { usePeerAction } from '../hooks/use-peer-action.js';
import { useServices } from '../hooks/use-services.js';
import { errorMessage } from '../lib/api-client.js';
import { serviceHref } from '../lib/hash-route.js';
import { OUT_OF_ROTATION } from '../lib/service-health.js';
import { StateBadge } from './badges.js';
import { ErrorAlert } from './error-alert.js';
import { PeerProvenance } from './peer-provenance.js';
import { PeerReturns } from './peer-returns.js';
import { RelativeTime } from './relative-time.js';

interface Row {
  service: string;
  peer: PeerView;
}

const EjectedRow = memo(
  function EjectedRow({ row, self, onRestore }: { row: Row; self: string | null; onRestore: ((service: string, address: string) => void) | null }) {
    const { service, peer } = row;
    return (
      <tr data-testid={`ejected-row-${service}-${peer.address}`}>
        <td>
          <a href={serviceHref(service)}>{service}</a>
        </td>
        <th scope="row">
          <code>{peer.address}</code>
        </th>
        <td>
          <StateBadge state={peer.state} />
        </td>
        <td>
          {peer.reason}
          <PeerProvenance peer={peer} self={self} />
        </td>
        <td>
          {peer.lastFailure === null ? (
            <span className="muted">–</span>
          ) : (
            <>
              <code>{peer.lastFailure.cause}</code> {peer.lastFailure.detail}
              <div className="sub muted">
                <RelativeTime at={peer.lastFailure.at} />
              </div>
            </>
          )}
        </td>
        <td>
          <RelativeTime at={peer.since} />
        </td>
        <td data-testid="peer-returns">
          <PeerReturns peer={peer} />
        </td>
        {onRestore !== null && (
          <td>
            <button type="button" onClick={() => onRestore(service, peer.address)}>
              Restore
            </button>
          </td>
        )}
      </tr>
    );
  },
  // Rows are rebuilt on each change; the peer objects of unchanged peers are kept by the cache.
  (a, b) => a.row.service === b.row.service && a.row.peer === b.row.peer && a.self === b.self && a.onRestore === b.onRestore,
);

/** Every peer out of rotation, across services: what on-call opens first. */
export function EjectedPage() {
  const services = useServices();
  const operator = useCanOperate();
  const self = useFleet().data?.self ?? null;
  const action = usePeerAction();
  const { mutate } = action;
  const onRestore = useMemo(
    () => (operator ? (service: string, address: string) => mutate({ service, address, action: 'restore' }) : null),
    [operator, mutate],
  );

  const rows = useMemo(() => {
    const out: Row[] = [];
    for (const s of services.data ?? []) {
      for (const peer of s.peers) if (OUT_OF_ROTATION.has(peer.state)) out.push({ service: s.name, peer });
    }
    // Ejected first (the failures), then the most recent first.
    return out.sort((a, b) => Number(b.peer.state === 'ejected') - Number(a.peer.state === 'ejected') || b.peer.since - a.peer.since);
  }, [services.data]);

  return (
    <>
      <h1>Ejected peers</h1>
      <p className="muted">Peers out of rotation in every service: ejected by failures or an operator, draining and drained.</p>
      {services.isError && (
        <div role="alert" className="alert">
          Could not load the services: {errorMessage(services.error)}
        </div>
      )}
      {action.isError && action.variables !== undefined && (
        <ErrorAlert what={`Restore of ${action.variables.address}`} error={action.error} onDismiss={() => action.reset()} />
      )}
      <div className="table-wrap">
        <table aria-label="Ejected peers" className="data">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Address</th>
              <th scope="col">State</th>
              <th scope="col">Reason</th>
              <th scope="col">Last error</th>
              <th scope="col">Since</th>
              <th scope="col">Returns</th>
              {operator && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <EjectedRow key={`${row.service} ${row.peer.address}`} row={row} self={self} onRestore={onRestore} />
            ))}
          </tbody>
        </table>
      </div>
      {services.data !== undefined && rows.length === 0 && <p>Every pod is in rotation.</p>}
    </>
  );
}
