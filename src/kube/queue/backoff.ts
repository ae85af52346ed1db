// Exponential backoff: pure delay computation plus a small stateful helper for reconnect loops.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per failure; 2 doubles. */
  factor?: number;
  /** 0..1: the delay is drawn uniformly from [d·(1−jitter), d]. 0 disables jitter. */
  jitter?: number;
}

/** Delay before retry number `failures` (1 = first retry): initial · factor^(failures−1), capped. */
export function exponentialDelay(failures: number, options: BackoffOptions): number {
  if (failures <= 0) return 0;
  const factor = options.factor ?? 2;
  // Cap the exponent so that huge failure counts do not overflow to Infinity/NaN.
  const exponent = Math.min(failures - 1, 1024);
  const raw = options.initialMs * Math.pow(factor, exponent);
  return Math.min(Number.isFinite(raw) ? raw : options.maxMs, options.maxMs);
}

export function withJitter(delayMs: number, jitter: number, random: () => number = Math.random): number {
  if (jitter <= 0) return delayMs;
  return delayMs * (1 - jitter * random());
}

/** Tracks consecutive failures of one loop (a watch, a lease renewal). */
export class Backoff {
  private failures = 0;

  constructor(private readonly options: BackoffOptions, private readonly random: () => number = Math.random) {}

  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    this.failures += 1;
    return withJitter(exponentialDelay(this.failures, this.options), this.options.jitter ?? 0, this.random);
  }

  reset(): void {
    this.failures = 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}

/** Resolves after `ms`, or early (without error) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
