// Concurrent calls for the same key share one execution: the first caller runs
// the work, the others await its result. Used where parallel reconciles of one
// cluster would otherwise repeat slow or conflicting work.
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const promise = work().finally(() => this.running.delete(key));
    this.running.set(key, promise);
    return promise;
  }
}
