import type { DnsConfig } from '@podgate/protocol';
import { describe, expect, it } from 'vitest';
import { answerDelayMs, retryDelayMs, scheduledDelayMs } from '../src/refresh-delay.js';

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

  it('never computes a delay outside [minRefreshMs, maxRefreshMs], whatever the TTL (issue 17: a NaN TTL fired the timer every millisecond)', () => {
    expect(answerDelayMs(NaN, dns, () => 0)).toBe(1_000);
    expect(answerDelayMs(null, dns, () => 0)).toBe(1_000);
    expect(answerDelayMs(undefined as unknown as number, dns, () => 0)).toBe(1_000);
    expect(answerDelayMs(-5, dns, () => 0)).toBe(1_000);
    expect(answerDelayMs(Infinity, dns, () => 0)).toBe(30_000);
    for (const ttl of [NaN, null, -1, 0, 0.5, 1, 5, 29, 30, 31, 3_600, Infinity]) {
      for (const draw of [0, 0.3, 0.999, 1, 7, -1, NaN, Infinity]) {
        const delay = answerDelayMs(ttl, dns, () => draw);
        expect(Number.isInteger(delay), `ttl ${ttl}, random ${draw}: ${delay}`).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(dns.minRefreshMs);
        expect(delay).toBeLessThanOrEqual(dns.maxRefreshMs);
      }
    }
    expect(retryDelayMs({ ...dns, maxRefreshMs: 1_000 }, () => 0.9)).toBe(1_000);
  });

  it('spreads services held at maxRefreshMs by taking the jitter off rather than adding it', () => {
    expect(answerDelayMs(3_600, dns, () => 0.5)).toBe(28_500);
    expect(answerDelayMs(29, dns, () => 0.5)).toBe(27_550);
  });

  it('arms the timer with a finite delay, at most maxRefreshMs and at least the floor', () => {
    expect(scheduledDelayMs(NaN, 0, dns)).toBe(1_000);
    expect(scheduledDelayMs(Infinity, 0, dns)).toBe(30_000);
    expect(scheduledDelayMs(1, 400, dns)).toBe(400);
    expect(scheduledDelayMs(-50, -20, dns)).toBe(0);
    expect(scheduledDelayMs(5, NaN, dns)).toBe(1_000);
    expect(scheduledDelayMs(5_000, 100, dns)).toBe(5_000);
  });
});
