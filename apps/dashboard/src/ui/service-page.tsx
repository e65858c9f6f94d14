import type { PeerAction } from '@podgate/protocol';
import { useCallback, useState } from 'react';
import { useCanOperate } from '../hooks/session-context.js';
import { navigate } from '../hooks/use-hash-route.js';
import { usePeerRates } from '../hooks/use-history.js';
import { useFleet } from '../hooks/use-fleet.js';
import { usePeerAction } from '../hooks/use-peer-action.js';
import { useRemoveService } from '../hooks/use-remove-service.js';
import { useService } from '../hooks/use-services.js';
import { errorMessage, isApiRequestError } from '../lib/api-client.js';
import { dnsCondition, noPodsText, routeText, serviceProblems } from '../lib/service-health.js';
import { ProblemBadges } from './badges.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { DnsStatus } from './dns-status.js';
import { ErrorAlert } from './error-alert.js';
import { LazyServiceCharts } from './lazy-service-charts.js';
import { PodRow } from './pod-row.js';
import { RolloutTimeline } from './rollout-timeline.js';

const VERB: Record<PeerAction, string> = { drain: 'Drain', eject: 'Eject', restore: 'Restore' };

const CONFIRM_TEXT: Partial<Record<PeerAction, string>> = {
  drain: 'It finishes the requests it is serving and takes no new ones until it is restored.',
  eject: 'It takes no new requests until it is restored; it does not come back by itself.',
};

export function ServicePage({ name }: { name: string }) {
  const service = useService(name);
  const rates = usePeerRates(name);
  const self = useFleet().data?.self ?? null;
  const operator = useCanOperate();
  const peerAction = usePeerAction();
  const removal = useRemoveService();
  const [pending, setPending] = useState<{ address: string; action: PeerAction } | null>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);

  const { mutate } = peerAction;
  const onAction = useCallback(
    (address: string, action: PeerAction) => {
      if (action in CONFIRM_TEXT) setPending({ address, action });
      else mutate({ service: name, address, action });
    },
    [mutate, name],
  );

  const view = service.data;
  const gone = service.isError && isApiRequestError(service.error) && service.error.status === 404;

  if (gone) {
    return (
      <>
        <h1>{name}</h1>
        <div role="alert" className="alert">
          {/* One child: the alert is a flex box, whose gap would stand between the link and the full stop. */}
          <p>
            There is no service named {name} (any more). <a href="#/">Back to the overview</a>.
          </p>
        </div>
      </>
    );
  }
  if (view === undefined) {
    return (
      <>
        <h1>{name}</h1>
        {service.isError ? (
          <div role="alert" className="alert">
            Could not load the service: {errorMessage(service.error)}
          </div>
        ) : (
          <p aria-busy="true">Loading…</p>
        )}
      </>
    );
  }

  const lastVars = peerAction.variables;
  return (
    <>
      <div className="page-head">
        <h1>{view.name}</h1>
        <ProblemBadges problems={serviceProblems(view)} />
        {operator && view.source === 'api' && (
          <button type="button" className="danger-outline push-right" onClick={() => setConfirmRemove(true)}>
            Remove service
          </button>
        )}
      </div>
      <dl className="facts">
        <div>
          <dt>DNS name</dt>
          <dd>
            <code>{view.dnsName}</code>
          </dd>
        </div>
        <div>
          <dt>Port</dt>
          <dd>{view.port}</dd>
        </div>
        <div>
          <dt>Routes</dt>
          <dd>
            <ul className="inline-list routes" aria-label="Routes">
              {view.routes.map((r) => {
                const { target, anyHost } = routeText(r);
                return (
                  <li key={`${r.host ?? ''} ${r.pathPrefix}`}>
                    <code className="route">{target}</code>
                    {anyHost && <span className="muted"> any host</span>}
                  </li>
                );
              })}
            </ul>
          </dd>
        </div>
        <div>
          <dt>Algorithm</dt>
          <dd>{view.algorithm}</dd>
        </div>
        <div>
          <dt>From</dt>
          <dd>{view.source === 'config' ? 'config file' : 'admin API'}</dd>
        </div>
        <div>
          <dt>DNS</dt>
          <dd>
            <DnsStatus dns={view.dns} />
          </dd>
        </div>
      </dl>

      {peerAction.isError && lastVars !== undefined && (
        <ErrorAlert what={`${VERB[lastVars.action]} of ${lastVars.address}`} error={peerAction.error} onDismiss={() => peerAction.reset()} />
      )}
      {removal.isError && <ErrorAlert what={`Removing ${view.name}`} error={removal.error} onDismiss={() => removal.reset()} />}

      <h2>Pods</h2>
      {view.peers.length === 0 ? (
        <p className={dnsCondition(view.dns) === 'failing' ? 'warn-text' : 'muted'}>No pods: {noPodsText(view.dns, view.dnsName)}</p>
      ) : null}
      <div className="table-wrap">
        <table aria-label="Pods" className="data pods">
          <thead>
            <tr>
              <th scope="col">Address</th>
              <th scope="col">State</th>
              <th scope="col">Since</th>
              <th scope="col" className="num">
                In flight
              </th>
              <th scope="col" className="num">
                req/s
              </th>
              <th scope="col">Errors by cause</th>
              <th scope="col" className="num">
                Retries
              </th>
              <th scope="col" className="num">
                Ejections
              </th>
              <th scope="col" className="num">
                p99
              </th>
              <th scope="col">Returns</th>
              {operator && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {view.peers.map((p) => (
              <PodRow key={p.address} peer={p} rates={rates.get(p.address)} self={self} canOperate={operator} onAction={onAction} />
            ))}
          </tbody>
        </table>
      </div>

      <LazyServiceCharts name={view.name} />
      <RolloutTimeline service={view.name} />

      {pending !== null && (
        <ConfirmDialog
          title={`${VERB[pending.action]} ${pending.address}?`}
          onCancel={() => setPending(null)}
          onConfirm={() => {
            mutate({ service: name, address: pending.address, action: pending.action });
            setPending(null);
          }}
        >
          <p>{CONFIRM_TEXT[pending.action]}</p>
        </ConfirmDialog>
      )}
      {confirmRemove && (
        <ConfirmDialog
          title={`Remove service ${view.name}?`}
          onCancel={() => setConfirmRemove(false)}
          onConfirm={() => {
            setConfirmRemove(false);
            removal.mutate(view.name, { onSuccess: () => navigate('#/') });
          }}
        >
          <p>podgate stops routing requests to it and forgets its pods.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
