// Per-item exponential backoff for the work queue (client-go's ItemExponentialFailureRateLimiter):
// each failure of an item doubles its delay, from 5 ms up to 1000 s; success forgets the item.
import { exponentialDelay } from './backoff';

export interface ItemBackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_ITEM_BACKOFF: ItemBackoffOptions = { baseDelayMs: 5, maxDelayMs: 1_000_000 };

export class ItemExponentialBackoff {
  private readonly failures = new Map<string, number>();

  constructor(private readonly options: ItemBackoffOptions = DEFAULT_ITEM_BACKOFF) {}

  /** Records a failure of `item` and returns how long to wait before retrying it. */
  when(item: string): number {
    const failures = (this.failures.get(item) ?? 0) + 1;
    this.failures.set(item, failures);
    return exponentialDelay(failures, { initialMs: this.options.baseDelayMs, maxMs: this.options.maxDelayMs, factor: 2 });
  }

  numRequeues(item: string): number {
    return this.failures.get(item) ?? 0;
  }

  forget(item: string): void {
    this.failures.delete(item);
  }
}
