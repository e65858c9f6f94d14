import type { DnsConfig } from '@podgate/protocol';

// setTimeout fires at once for delays above 2^31 - 1 ms (about 24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;

function withJitter(intervalMs: number, dns: DnsConfig, random: () => number): number {
  // Jitter spreads the refreshes of many services (and many podgate instances) so they do not
  // hit the cluster DNS in the same millisecond.
  return Math.min(MAX_TIMER_MS, Math.round(intervalMs + intervalMs * dns.jitter * random()));
}

/** Delay after an answer: its lowest TTL, held within [minRefreshMs, maxRefreshMs], plus jitter. */
export function answerDelayMs(ttlSeconds: number, dns: DnsConfig, random: () => number): number {
  const intervalMs = Math.min(dns.maxRefreshMs, Math.max(dns.minRefreshMs, ttlSeconds * 1000));
  return withJitter(intervalMs, dns, random);
}

/**
 * Delay after a failure or an empty answer: minRefreshMs plus jitter. A failure carries no TTL, and
 * waiting maxRefreshMs would leave a service on a stale set for the longest time exactly when DNS
 * is in trouble.
 */
export function retryDelayMs(dns: DnsConfig, random: () => number): number {
  return withJitter(dns.minRefreshMs, dns, random);
}
