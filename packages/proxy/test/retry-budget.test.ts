import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../src/retry-budget.js';

function withdrawAll(budget: RetryBudget, now: number): number {
  let n = 0;
  while (n < 10_000 && budget.tryWithdraw(now)) n++;
  return n;
}

describe('retry budget', () => {
  it('allows minPerSecond × 10 retries with no traffic, then refuses', () => {
    expect(withdrawAll(new RetryBudget(20, 2), 0)).toBe(20);
  });

  it('adds percent % of the requests in the window', () => {
    const budget = new RetryBudget(20, 0);
    for (let i = 0; i < 1000; i++) budget.deposit(500);
    expect(withdrawAll(budget, 900)).toBe(200);
  });

  it('lets a batch of simultaneous timeouts retry together (what a black-holed pod causes)', () => {
    const budget = new RetryBudget(20, 10);
    for (let i = 0; i < 10; i++) budget.deposit(0);
    let allowed = 0;
    for (let i = 0; i < 32; i++) if (budget.tryWithdraw(10_000 - 1)) allowed++;
    expect(allowed).toBe(32);
  });

  it('forgets requests and retries older than ten seconds', () => {
    const budget = new RetryBudget(50, 0);
    for (let i = 0; i < 100; i++) budget.deposit(1_000);
    expect(withdrawAll(budget, 1_500)).toBe(50);
    expect(budget.tryWithdraw(10_999)).toBe(false);
    expect(budget.tryWithdraw(11_000)).toBe(false);
    for (let i = 0; i < 10; i++) budget.deposit(11_000);
    expect(withdrawAll(budget, 11_000)).toBe(5);
  });
});
