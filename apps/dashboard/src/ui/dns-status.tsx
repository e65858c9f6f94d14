import type { DnsView } from '@podgate/protocol';
import { dnsCause, dnsCondition } from '../lib/service-health.js';
import { RelativeTime } from './relative-time.js';

/**
 * Last refresh; while the nameserver fails or the name has no records, what exactly and since
 * when; the age of the set in use; and whether podgate is re-resolving every second because the
 * service is short of live pods.
 */
export function DnsStatus({ dns }: { dns: DnsView }) {
  const condition = dnsCondition(dns);
  if (dns.lastRefreshAt === null || condition === 'resolving') return <span className="muted">resolving…</span>;
  const trouble = condition === 'failing' || condition === 'empty';
  return (
    <span className="dns-status" data-dns-condition={condition}>
      <span>
        refreshed <RelativeTime at={dns.lastRefreshAt} />
      </span>
      {trouble && (
        <span className="warn-text" title={dns.problem ?? undefined}>
          {condition === 'failing' ? 'failing: ' : 'no records: '}
          {dnsCause(dns)}
        </span>
      )}
      {trouble && dns.troubleSince != null && (
        <span className="muted">
          since <RelativeTime at={dns.troubleSince} />
        </span>
      )}
      {dns.urgent === true && <span className="warn-text">re-resolving every second: under half the pods alive</span>}
      {(trouble || dns.lastSuccessAt === null || dns.lastRefreshAt - dns.lastSuccessAt > 1000) && (
        <span className="muted">
          last good <RelativeTime at={dns.lastSuccessAt} />
        </span>
      )}
    </span>
  );
}
