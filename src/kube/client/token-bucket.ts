// Client-side request rate limit in the manner of client-go's --kube-api-qps/--kube-api-burst.

export interface TokenBucketOptions {
  /** Sustained requests per second; <= 0 disables limiting. */
  qps: number;
  /** Requests allowed at once after an idle period. */
  burst: number;
  now?: () => number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly now: () => number;
  // Waiters are served in arrival order so that no request starves.
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly options: TokenBucketOptions) {
    this.now = options.now ?? (() => performance.now());
    this.tokens = Math.max(1, options.burst);
    this.last = this.now();
  }

  get enabled(): boolean {
    return this.options.qps > 0;
  }

  /** Milliseconds until a token is available (0 if one is), after refilling. Pure apart from refill. */
  delayUntilToken(): number {
    this.refill();
    if (this.tokens >= 1) return 0;
    return ((1 - this.tokens) / this.options.qps) * 1000;
  }

  /** Takes a token if one is available right now. */
  tryTake(): boolean {
    if (!this.enabled) return true;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Waits for a token, in FIFO order. */
  take(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const turn = this.tail.then(async () => {
      for (;;) {
        if (this.tryTake()) return;
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, this.delayUntilToken())));
      }
    });
    this.tail = turn;
    return turn;
  }

  private refill(): void {
    const now = this.now();
    const elapsedSeconds = (now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(Math.max(1, this.options.burst), this.tokens + elapsedSeconds * this.options.qps);
  }
}
