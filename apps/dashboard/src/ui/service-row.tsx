import type { ServiceView } from '@podgate/protocol';
import { memo, useMemo } from 'react';
import { useLatestPoint } from '../hooks/use-history.js';
import { formatLatency, formatPercent, formatRate } from '../lib/format.js';
import { serviceHref } from '../lib/hash-route.js';
import { serviceProblems, stateCounts } from '../lib/service-health.js';
import { ProblemBadges } from './badges.js';
import { DnsStatus } from './dns-status.js';
import { PodCounts } from './pod-counts.js';

// Past 5 % of responses failing, the number is shown as a warning.
const HIGH_ERROR_RATE = 0.05;

/**
 * One service on the overview. Memoized on the service object: the feed's merge keeps the object
 * of a service that did not change, so a message about one service renders one row.
 */
export const ServiceRow = memo(function ServiceRow({ service }: { service: ServiceView }) {
  const point = useLatestPoint(service.name);
  const counts = useMemo(() => stateCounts(service), [service]);
  const problems = useMemo(() => serviceProblems(service), [service]);
  const p99 = point?.p99Ms ?? null;

  return (
    <tr data-testid={`service-row-${service.name}`} className={problems.length > 0 ? 'has-problem' : undefined}>
      <th scope="row">
        <a href={serviceHref(service.name)}>{service.name}</a>
        <div className="sub muted">{service.dnsName}</div>
      </th>
      <td>
        <PodCounts counts={counts} />
      </td>
      <td className="num">{formatRate(point?.requestsPerSec ?? null)}</td>
      <td className={`num${point !== undefined && point.errorRate >= HIGH_ERROR_RATE ? ' warn-text strong' : ''}`}>
        {formatPercent(point?.errorRate ?? null)}
        {point !== undefined && point.errorsPerSec > 0 && <div className="sub muted">{formatRate(point.errorsPerSec)}/s</div>}
      </td>
      <td className="num">{formatRate(point?.retriesPerSec ?? null)}</td>
      <td className="num">{formatLatency(p99)}</td>
      <td>
        <DnsStatus dns={service.dns} />
      </td>
      <td>
        <ProblemBadges problems={problems} />
      </td>
    </tr>
  );
});
