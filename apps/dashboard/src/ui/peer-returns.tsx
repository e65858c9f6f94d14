import type { PeerView } from '@podgate/protocol';
import { peerReturn } from '../lib/service-health.js';
import { RelativeTime } from './relative-time.js';

/** When the peer comes back: `in 25 s`, `when restored`, or a dash; the same on every page. */
export function PeerReturns({ peer }: { peer: Pick<PeerView, 'returnsAt' | 'hold'> }) {
  const returns = peerReturn(peer);
  if (returns === null) return <span className="muted">–</span>;
  if ('at' in returns) return <RelativeTime at={returns.at} />;
  return <span className="muted">{returns.text}</span>;
}
