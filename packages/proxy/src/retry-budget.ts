const WINDOW_SECONDS = 10;

/**
 * Retry budget over a sliding 10 s window (Finagle's RetryBudget, also gRPC's retry throttling
 * in spirit): retries may be at most `percent` % of the requests seen, plus a floor of
 * `minPerSecond` so a quiet service can still retry. A failing service therefore gets at most
 * (1 + percent/100) × its load, never tries × its load. Counting by window rather than by
 * retries in flight matters: a black-holed pod makes a batch of requests time out together, and
 * retrying that batch is exactly what the budget must allow.
 */
export class RetryBudget {
  private readonly requests = new Uint32Array(WINDOW_SECONDS);
  private readonly retries = new Uint32Array(WINDOW_SECONDS);
  private requestSum = 0;
  private retrySum = 0;
  private second = 0;

  constructor(
    private readonly percent: number,
    private readonly minPerSecond: number,
  ) {}

  /** A request arrived. */
  deposit(now: number): void {
    const slot = this.advance(now);
    this.requests[slot] = (this.requests[slot] as number) + 1;
    this.requestSum++;
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryWithdraw(now: number): boolean {
    const slot = this.advance(now);
    const limit = this.minPerSecond * WINDOW_SECONDS + (this.requestSum * this.percent) / 100;
    if (this.retrySum >= limit) return false;
    this.retries[slot] = (this.retries[slot] as number) + 1;
    this.retrySum++;
    return true;
  }

  /** Moves the window to `now`'s second, dropping the seconds that fell out of it. */
  private advance(now: number): number {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      const steps = Math.min(second - this.second, WINDOW_SECONDS);
      for (let i = 1; i <= steps; i++) {
        const slot = (this.second + i) % WINDOW_SECONDS;
        this.requestSum -= this.requests[slot] as number;
        this.retrySum -= this.retries[slot] as number;
        this.requests[slot] = 0;
        this.retries[slot] = 0;
      }
      this.second = second;
    }
    return second % WINDOW_SECONDS;
  }
}
