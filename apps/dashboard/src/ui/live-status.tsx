import { REFUSED_RETRY_MS, type FeedStatus } from '../lib/live-feed.js';

const LABELS: Record<FeedStatus, string> = { live: 'Live', reconnecting: 'Reconnecting…', refused: 'Feed refused' };

/**
 * The feed's state in the top bar. A refusal names the server's reason (which limit, and its
 * config key) so the operator knows to close tabs or raise it, rather than watching a reconnect loop.
 */
export function LiveStatus({ status, detail }: { status: FeedStatus; detail?: string | undefined }) {
  const live = status === 'live';
  const refused = status === 'refused';
  return (
    <span className={`live-status ${live ? 'is-live' : 'is-down'}`} role="status">
      <span className="dot" aria-hidden="true" />
      <span data-testid="live-status">{LABELS[status]}</span>
      {refused && (
        <span className="live-status-detail" data-testid="live-status-detail">
          {detail}; retrying within {Math.round(REFUSED_RETRY_MS / 1000)} s
        </span>
      )}
    </span>
  );
}
