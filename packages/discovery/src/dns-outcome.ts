import type { RecordWithTtl } from 'node:dns';
import { isIP } from 'node:net';
import { sortAddresses } from './address-order.js';

/** What one refresh learnt from its A and AAAA queries. */
export type DnsOutcome =
  /**
   * `failedFamily`: the other family's query failed (timeout, SERVFAIL): its last known addresses
   * still hold. `ttlSeconds`: the lowest TTL among the records that carry one; null when none does.
   */
  | { kind: 'resolved'; addresses: string[]; ttlSeconds: number | null; failedFamily: 4 | 6 | null }
  /** NXDOMAIN or NODATA on both families: the name has no addresses now. */
  | { kind: 'empty'; code: 'ENOTFOUND' | 'ENODATA'; message: string }
  /** Timeout, SERVFAIL, refused...: the answer is unknown, not empty. */
  | { kind: 'failed'; code: string; message: string };

type Answer = PromiseSettledResult<RecordWithTtl[]>;

interface QueryError {
  code: string;
  message: string;
}

function queryError(reason: unknown): QueryError {
  if (reason instanceof Error) {
    const code = (reason as NodeJS.ErrnoException).code;
    return { code: typeof code === 'string' ? code : 'EUNKNOWN', message: reason.message };
  }
  return { code: 'EUNKNOWN', message: String(reason) };
}

function isEmptyCode(code: string): code is 'ENOTFOUND' | 'ENODATA' {
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

/**
 * Combines the A and AAAA answers. Any address from either family is a success (a single-stack
 * Service answers NODATA for the other family). With no address, an error other than NXDOMAIN or
 * NODATA on either family makes it a failure, since that family might have held the addresses.
 */
export function classifyAnswers(v4: Answer, v6: Answer, dnsName: string): DnsOutcome {
  const records = [v4, v6].flatMap((answer) => (answer.status === 'fulfilled' ? answer.value : []));
  if (records.length > 0) {
    const failed = (answer: Answer): boolean => answer.status === 'rejected' && !isEmptyCode(queryError(answer.reason).code);
    return {
      kind: 'resolved',
      failedFamily: failed(v4) ? 4 : failed(v6) ? 6 : null,
      addresses: sortAddresses(records.map((record) => record.address)),
      ttlSeconds: lowestTtl(records),
    };
  }
  // A fulfilled empty list does not happen with c-ares (it reports ENODATA), but means the same.
  const errors = [v4, v6].map((answer) =>
    answer.status === 'rejected' ? queryError(answer.reason) : { code: 'ENODATA', message: `no records for ${dnsName}` },
  );
  const hard = errors.find((error) => !isEmptyCode(error.code));
  if (hard !== undefined) return { kind: 'failed', ...hard };
  const notFound = errors.find((error) => error.code === 'ENOTFOUND');
  const first = notFound ?? errors[0] ?? { code: 'ENODATA', message: `no records for ${dnsName}` };
  return { kind: 'empty', code: notFound === undefined ? 'ENODATA' : 'ENOTFOUND', message: first.message };
}

/**
 * The lowest TTL of the records that carry one, or null when none does. Past 256 records of one
 * family, node 20 (c-ares) returns the rest with `ttl` undefined, whatever the answer said: such a
 * record takes the lowest TTL of the others (they came in the same answer). Math.min over them all
 * was NaN, and a NaN refresh delay fired the timer every millisecond (issue 17). A loop, not
 * Math.min(...spread): an answer can hold thousands of records.
 */
export function lowestTtl(records: readonly { ttl?: number | undefined }[]): number | null {
  let lowest: number | null = null;
  for (const { ttl } of records) {
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) continue;
    if (lowest === null || ttl < lowest) lowest = ttl;
  }
  return lowest;
}

/** What a failure message needs to name the nameserver and the limits it ran into. */
export interface DnsQueryContext {
  dnsName: string;
  /** As configured: `ip`, `ip:port` or `[ipv6]:port`. */
  nameservers: readonly string[];
  timeoutMs: number;
  attempts: number;
}

/** `ip:port` for a configured nameserver, port 53 when it has none. */
export function nameserverLabel(server: string): string {
  if (isIP(server) === 4) return `${server}:53`;
  if (isIP(server) === 6) return `[${server}]:53`;
  return server;
}

/**
 * One line naming what went wrong and where, from node's (c-ares's) error code — never the
 * code alone, which reads like a missing name. c-ares does not say which of several nameservers
 * gave the last error, so several are named together.
 *
 * Checked against node 20: a closed UDP port (ICMP port unreachable) gives ECONNREFUSED at once; a
 * DNS answer with rcode REFUSED gives EREFUSED, SERVFAIL gives ESERVFAIL, NXDOMAIN gives
 * ENOTFOUND, an answer without records of the type gives ENODATA, no answer at all gives ETIMEOUT
 * (after `attempts` queries, c-ares doubling the timeout each time).
 */
export function describeDnsError(code: string, message: string, context: DnsQueryContext): string {
  const servers = context.nameservers.map(nameserverLabel).join(', ');
  switch (code) {
    case 'ECONNREFUSED':
      return `${servers}: connection refused`;
    case 'ETIMEOUT':
      return `${servers}: timed out after ${context.timeoutMs} ms ×${context.attempts}`;
    case 'ESERVFAIL':
      return `SERVFAIL from ${servers}`;
    case 'EREFUSED':
      return `REFUSED from ${servers}`;
    case 'ENOTIMP':
      return `NOTIMP from ${servers}`;
    case 'EFORMERR':
      return `FORMERR from ${servers}`;
    case 'EBADRESP':
      return `${servers}: malformed answer`;
    case 'ENOTFOUND':
      return `NXDOMAIN from ${servers}: ${context.dnsName} does not exist`;
    case 'ENODATA':
      return `NODATA from ${servers}: ${context.dnsName} has no A or AAAA records`;
    case 'ECANCELLED':
    case 'EDESTRUCTION':
      return 'query cancelled';
    default:
      return `${servers}: ${code} (${message})`;
  }
}
