import type { DnsView } from '@podgate/protocol';
import { dnsFailing } from '../lib/service-health.js';
import { RelativeTime } from './relative-time.js';

/** Last refresh, the last error while it lasts, and how old the set in use is. */
export function DnsStatus({ dns }: { dns: DnsView }) {
  if (dns.lastRefreshAt === null) return <span className="muted">resolving…</span>;
  const failing = dnsFailing(dns);
  return (
    <span className="dns-status">
      <span>
        refreshed <RelativeTime at={dns.lastRefreshAt} />
      </span>
      {failing && dns.lastError !== null && (
        <span className="warn-text" title={dns.lastError.message}>
          {dns.lastError.code}: {dns.lastError.message}
        </span>
      )}
      {(failing || dns.lastSuccessAt === null || dns.lastRefreshAt - dns.lastSuccessAt > 1000) && (
        <span className="muted">
          last good <RelativeTime at={dns.lastSuccessAt} />
        </span>
      )}
    </span>
  );
}
