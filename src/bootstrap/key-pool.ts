// RSA-4096 service-account keys generated ahead of need, so that a new cluster's secrets bundle
// does not wait the second or so one takes. Kept only in memory, a few at a time, and handed out
// once each: a key never serves two clusters.
import { generateKey, type KeyAlgorithm } from '../talos/config';

export interface KeyPoolOptions {
  /** Keys kept ready (or being generated) ahead of need. */
  size?: number;
  /**
   * Keys generated at once. Each holds one of libuv's four pool threads for a second or more;
   * leaving one free lets the quick ECDSA/Ed25519 keys of other bundles through meanwhile.
   */
  parallel?: number;
  /** Makes one private key PEM (a new RSA-4096 key by default). */
  generate?: () => Promise<string>;
}

const DEFAULT_SIZE = 2;
const DEFAULT_PARALLEL = 3;

export const POOLED_ALGORITHM: KeyAlgorithm = 'rsa-4096';

export class KeyPool {
  /** Unclaimed keys, ready or still being generated; each goes to exactly one taker. */
  private readonly queue: Array<Promise<string>> = [];
  private readonly size: number;
  private readonly parallel: number;
  private readonly make: () => Promise<string>;
  private running = 0;
  /** Generations waiting for a free slot, first come first served. */
  private readonly waiting: Array<() => void> = [];

  constructor(options: KeyPoolOptions = {}) {
    this.size = options.size ?? DEFAULT_SIZE;
    this.parallel = options.parallel ?? DEFAULT_PARALLEL;
    this.make = options.generate ?? (async () => (await generateKey(POOLED_ALGORITHM)).privateKeyPem);
  }

  /**
   * The oldest unclaimed key (at once if it is ready), else a new one. Either way the pool fills
   * up again behind it. The pool starts filling on first use or at `warmUp`.
   */
  take(): Promise<string> {
    const key = this.queue.shift() ?? this.generate();
    this.fill();
    return key;
  }

  /**
   * Starts filling the pool now, ahead of the first bundle: the operator's first new cluster then
   * finds its key ready. Called when the bootstrap controller starts, so only the leader spends CPU.
   */
  warmUp(): void {
    this.fill();
  }

  private async generate(): Promise<string> {
    if (this.running >= this.parallel) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await this.make();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  private fill(): void {
    while (this.queue.length < this.size) {
      const key = this.generate();
      // A failed key is the taker's error (its reconcile retries); until then nobody is waiting.
      key.catch(() => undefined);
      this.queue.push(key);
    }
  }
}
