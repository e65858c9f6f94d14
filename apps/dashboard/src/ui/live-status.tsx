import type { FeedStatus } from '../lib/live-feed.js';

export function LiveStatus({ status }: { status: FeedStatus }) {
  const live = status === 'live';
  return (
    <span className={`live-status ${live ? 'is-live' : 'is-down'}`} role="status">
      <span className="dot" aria-hidden="true" />
      <span data-testid="live-status">{live ? 'Live' : 'Reconnecting…'}</span>
    </span>
  );
}
