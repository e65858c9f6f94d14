import { useSession } from '../hooks/session-context.js';
import { useInstanceStatus } from '../hooks/use-instance-status.js';
import { Uptime } from './uptime.js';

/**
 * Under the top bar: which podgate the page talks to (version, uptime, where it serves clients, its
 * workers), and where the token is kept, with the choice to remember it on this browser.
 */
export function InstanceBar() {
  const status = useInstanceStatus().data;
  const { remembered, setRemembered } = useSession();
  return (
    <div className="instance-bar">
      <dl className="instance-facts" aria-label="This podgate" data-testid="instance-facts">
        <div>
          <dt>version</dt>
          <dd data-testid="instance-version">{status?.version ?? '…'}</dd>
        </div>
        <div>
          <dt>up</dt>
          <dd data-testid="instance-uptime">{status === undefined ? '…' : <Uptime startedAt={status.startedAt} />}</dd>
        </div>
        <div>
          <dt>proxy</dt>
          <dd data-testid="instance-listen">
            <code>{status?.listen ?? '…'}</code>
          </dd>
        </div>
        <div>
          <dt className="visually-hidden">workers</dt>
          <dd data-testid="instance-workers">{status?.workers ?? '…'}</dd>
        </div>
      </dl>
      <label
        className="check remember"
        title={remembered ? 'The token is kept in this browser (localStorage) until you sign out' : 'The token is kept for this tab only'}
      >
        <input type="checkbox" checked={remembered} onChange={(e) => setRemembered(e.target.checked)} />
        Remember on this browser
      </label>
    </div>
  );
}
