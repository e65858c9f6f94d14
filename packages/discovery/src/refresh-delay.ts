import type { DnsConfig } from '@podgate/protocol';

// setTimeout fires at once for delays above 2^31 - 1 ms (about 24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Held within [minRefreshMs, maxRefreshMs] (and setTimeout's limit), a whole number of ms. NaN, from
 * whatever computed it, becomes minRefreshMs: a NaN delay makes setTimeout fire after 1 ms.
 */
export function boundedDelayMs(ms: number, dns: DnsConfig): number {
  const held = Number.isNaN(ms) ? dns.minRefreshMs : Math.min(dns.maxRefreshMs, Math.max(dns.minRefreshMs, ms));
  return Math.min(MAX_TIMER_MS, Math.round(held));
}

/**
 * The delay a refresher arms its timer with: `delayMs` made finite (NaN becomes minRefreshMs), at
 * most maxRefreshMs, at least `floorMs` and 0. Shorter than minRefreshMs only when the caller
 * means it (the urgent rhythm, the end of an empty grace period) and the floor allows it.
 */
export function scheduledDelayMs(delayMs: number, floorMs: number, dns: DnsConfig): number {
  const capped = Number.isNaN(delayMs) ? dns.minRefreshMs : Math.min(delayMs, dns.maxRefreshMs, MAX_TIMER_MS);
  return Math.max(0, Number.isNaN(floorMs) ? dns.minRefreshMs : floorMs, capped);
}

function withJitter(intervalMs: number, dns: DnsConfig, random: () => number): number {
  // Jitter spreads the refreshes of many services (and many podgate instances) so they do not
  // hit the cluster DNS in the same millisecond. It delays the refresh, or brings it forward where
  // a delay would pass maxRefreshMs, so services held at maxRefreshMs spread out too.
  const draw = random();
  const spread = intervalMs * dns.jitter * (Number.isFinite(draw) ? Math.min(1, Math.max(0, draw)) : 0);
  return boundedDelayMs(intervalMs + spread <= dns.maxRefreshMs ? intervalMs + spread : intervalMs - spread, dns);
}

/**
 * Delay after an answer: its lowest TTL, held within [minRefreshMs, maxRefreshMs], plus jitter.
 * `ttlSeconds` null (no record carried a TTL) or not a number: minRefreshMs, as after a failure.
 */
export function answerDelayMs(ttlSeconds: number | null, dns: DnsConfig, random: () => number): number {
  const known = ttlSeconds !== null && !Number.isNaN(ttlSeconds);
  return withJitter(known ? boundedDelayMs(ttlSeconds * 1000, dns) : dns.minRefreshMs, dns, random);
}

/**
 * Delay after a failure or an empty answer: minRefreshMs plus jitter. A failure carries no TTL, and
 * waiting maxRefreshMs would leave a service on a stale set for the longest time exactly when DNS
 * is in trouble.
 */
export function retryDelayMs(dns: DnsConfig, random: () => number): number {
  return withJitter(dns.minRefreshMs, dns, random);
}
