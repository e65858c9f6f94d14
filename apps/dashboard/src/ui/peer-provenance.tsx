import type { PeerView } from '@podgate/protocol';
import { memo } from 'react';
import { ejectedByText, heldByText } from '../lib/fleet.js';
import { RelativeTime } from './relative-time.js';

/**
 * Who put the peer out of rotation, under its state: the operator who drained or ejected it (and
 * through which instance, when another one), or the instance whose traffic ejected it. A second
 * line rather than a column, so the pods table still fits at 1280 px.
 */
export const PeerProvenance = memo(function PeerProvenance({ peer, self }: { peer: PeerView; self: string | null }) {
  const held = heldByText(peer, self);
  const ejected = ejectedByText(peer, self);
  return (
    <>
      {held !== null && peer.heldBy !== null && (
        <div className="sub muted provenance" data-testid="held-by">
          {held}, <RelativeTime at={peer.heldBy.at} />
        </div>
      )}
      {ejected !== null && (
        <div className="sub muted provenance" data-testid="ejected-by">
          {ejected}
        </div>
      )}
    </>
  );
});
