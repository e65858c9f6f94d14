import type { DnsConfig } from '@podgate/protocol';
import { describe, expect, it } from 'vitest';
import { answerDelayMs, retryDelayMs } from '../src/refresh-delay.js';

const dns: DnsConfig = {
  nameservers: ['127.0.0.1:53'],
  timeoutMs: 2_000,
  attempts: 2,
  minRefreshMs: 1_000,
  maxRefreshMs: 30_000,
  emptyGraceMs: 30_000,
  jitter: 0.1,
};

describe('refresh delays', () => {
  it('follows the TTL inside [minRefreshMs, maxRefreshMs]', () => {
    expect(answerDelayMs(5, dns, () => 0)).toBe(5_000);
    expect(answerDelayMs(0, dns, () => 0)).toBe(1_000);
    expect(answerDelayMs(86_400, dns, () => 0)).toBe(30_000);
  });

  it('adds up to jitter × interval of random delay', () => {
    expect(answerDelayMs(5, dns, () => 0.5)).toBe(5_250);
    expect(answerDelayMs(5, dns, () => 0.999)).toBeLessThanOrEqual(5_500);
  });

  it('retries a failure at minRefreshMs plus jitter, never at maxRefreshMs', () => {
    expect(retryDelayMs(dns, () => 0)).toBe(1_000);
    expect(retryDelayMs(dns, () => 0.5)).toBe(1_050);
  });
});
