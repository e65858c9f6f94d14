import type { PeerAction, PeerView } from '@podgate/protocol';
import { memo } from 'react';
import { formatLatency, formatRate } from '../lib/format.js';
import type { PeerRates } from '../lib/rates.js';
import { StateBadge } from './badges.js';
import { PeerProvenance } from './peer-provenance.js';
import { PeerReturns } from './peer-returns.js';
import { RelativeTime } from './relative-time.js';

interface Props {
  peer: PeerView;
  rates: PeerRates | undefined;
  /** This instance's id in the fleet: a hold made through it needs no "via". */
  self: string | null;
  canOperate: boolean;
  /** Stable across renders, so the memo holds. */
  onAction: (address: string, action: PeerAction) => void;
}

/** Whether an action would change anything for the peer in its current state. */
export function actionApplies(peer: PeerView, action: PeerAction): boolean {
  if (peer.state === 'terminating') return false;
  switch (action) {
    case 'drain':
      return peer.hold !== 'drain';
    case 'eject':
      return peer.hold !== 'eject';
    case 'restore':
      return peer.state !== 'active' || peer.hold !== null;
  }
}

const ACTION_LABELS: Record<PeerAction, string> = { drain: 'Drain', eject: 'Eject', restore: 'Restore' };

function Errors({ errors }: { errors: Readonly<Record<string, number>> }) {
  const entries = Object.entries(errors).filter(([, n]) => n > 0);
  if (entries.length === 0) return <span className="muted">0</span>;
  return (
    <ul className="inline-list errors-list">
      {entries.map(([cause, n]) => (
        <li key={cause}>
          <code>{cause}</code> {n}
        </li>
      ))}
    </ul>
  );
}

export const PodRow = memo(function PodRow({ peer, rates, self, canOperate, onAction }: Props) {
  return (
    <tr data-testid={`pod-row-${peer.address}`} className={`state-row-${peer.state}`}>
      <th scope="row">
        <code>{peer.address}</code>
      </th>
      <td>
        <StateBadge state={peer.state} />
        {peer.reason !== '' && <div className="sub muted">{peer.reason}</div>}
        <PeerProvenance peer={peer} self={self} />
      </td>
      <td>
        <RelativeTime at={peer.since} />
      </td>
      <td className="num">{peer.inFlight}</td>
      <td className="num">{formatRate(rates?.requestsPerSec ?? null)}</td>
      <td>
        <Errors errors={peer.errors} />
        {peer.lastFailure !== null && (
          <div className="sub muted" title={peer.lastFailure.detail}>
            last: {peer.lastFailure.detail}
          </div>
        )}
      </td>
      <td className="num">{peer.retries}</td>
      <td className="num" data-testid="pod-ejections">
        {peer.ejections}
      </td>
      <td className="num">{formatLatency(peer.latencyMs?.p99 ?? null)}</td>
      <td data-testid="pod-returns">
        <PeerReturns peer={peer} />
      </td>
      {canOperate && (
        <td className="actions">
          <div className="action-buttons">
            {(['drain', 'eject', 'restore'] as const).map((action) => (
              <button
                key={action}
                type="button"
                className={action === 'restore' ? undefined : 'danger-outline'}
                disabled={!actionApplies(peer, action)}
                onClick={() => onAction(peer.address, action)}
                title={`${ACTION_LABELS[action]} ${peer.address}`}
              >
                {ACTION_LABELS[action]}
              </button>
            ))}
          </div>
        </td>
      )}
    </tr>
  );
});
