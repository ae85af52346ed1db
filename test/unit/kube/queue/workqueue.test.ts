import { ItemExponentialBackoff } from '../../../../src/kube/queue/item-backoff';
import { WorkQueue } from '../../../../src/kube/queue/workqueue';

describe('WorkQueue', () => {
  afterEach(() => jest.useRealTimers());

  it('deduplicates keys that are waiting', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(queue.length).toBe(0);
  });

  it('never hands a key to two workers; a key added while processing comes back after done', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    queue.add('a');
    expect(queue.length).toBe(0); // held back while 'a' is processed
    const second = queue.get();
    let handedOut = false;
    void second.then(() => (handedOut = true));
    await Promise.resolve();
    expect(handedOut).toBe(false);
    queue.done(first!);
    expect(await second).toBe('a');
    queue.done('a');
    expect(queue.length).toBe(0); // the two adds during processing collapsed into one
  });

  it('lets other keys proceed while one is processing', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('b');
    const a = await queue.get();
    const b = await queue.get();
    expect([a, b]).toEqual(['a', 'b']);
    expect(queue.processingCount).toBe(2);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).toBe('x');
  });

  it('adds after a delay, keeping the earliest of several delayed adds', async () => {
    jest.useFakeTimers();
    const queue = new WorkQueue({ now: () => Date.now() });
    queue.addAfter('a', 1000);
    queue.addAfter('a', 5000); // later: ignored
    queue.addAfter('b', 3000);
    queue.addAfter('b', 200); // earlier: replaces
    jest.advanceTimersByTime(199);
    expect(queue.length).toBe(0);
    jest.advanceTimersByTime(1);
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe('b');
    jest.advanceTimersByTime(800);
    expect(await queue.get()).toBe('a');
    jest.advanceTimersByTime(10_000);
    expect(queue.length).toBe(0);
  });

  it('treats a non-positive delay as an immediate add', () => {
    const queue = new WorkQueue();
    queue.addAfter('a', 0);
    expect(queue.length).toBe(1);
  });

  it('backs off a failing key exponentially from 5 ms and resets on forget', async () => {
    jest.useFakeTimers();
    const queue = new WorkQueue({ now: () => Date.now() });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = Date.now();
      queue.addRateLimited('a');
      for (let waited = 0; queue.length === 0 && waited < 1000; waited++) jest.advanceTimersByTime(1);
      delays.push(Date.now() - before);
      queue.done((await queue.get())!);
    }
    expect(delays).toEqual([5, 10, 20, 40]);
    expect(queue.numRequeues('a')).toBe(4);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
  });

  it('stops handing out work on shutdown and wakes waiters with undefined', async () => {
    jest.useFakeTimers();
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('a');
    queue.addAfter('b', 10);
    jest.advanceTimersByTime(100);
    expect(queue.length).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('drops delayed keys at shutdown and reports drained once in-flight keys are done', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const key = await queue.get();
    queue.addAfter('b', 50);
    queue.shutDown();
    let drained = false;
    const waitDrain = queue.drained().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    queue.done(key!);
    await waitDrain;
    expect(drained).toBe(true);
    await new Promise((r) => setTimeout(r, 80));
    expect(queue.length).toBe(0);
  });

  it('reports adds, depth, retries and latencies to its metrics sink', async () => {
    const seen = { adds: 0, retries: 0, depth: [] as number[], latency: 0, work: 0 };
    const queue = new WorkQueue({
      metrics: {
        added: () => seen.adds++, retried: () => seen.retries++, depth: (d) => seen.depth.push(d),
        queueLatency: () => seen.latency++, workDuration: () => seen.work++, unfinishedWork: () => undefined,
      },
    });
    queue.add('a');
    queue.add('a');
    queue.done((await queue.get())!);
    queue.addRateLimited('a');
    queue.shutDown();
    expect(seen).toEqual({ adds: 1, retries: 1, depth: [1, 0, 0], latency: 1, work: 1 });
  });
});

describe('ItemExponentialBackoff', () => {
  it('doubles per failure and caps at the maximum (1000 s by default)', () => {
    const backoff = new ItemExponentialBackoff();
    const delays = Array.from({ length: 30 }, () => backoff.when('x'));
    expect(delays.slice(0, 3)).toEqual([5, 10, 20]);
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(1_000_000);
    expect(delays[29]).toBe(1_000_000);
    expect(backoff.when('other')).toBe(5); // items back off independently
  });

  it('never overflows for huge failure counts', () => {
    const backoff = new ItemExponentialBackoff({ baseDelayMs: 5, maxDelayMs: 60_000 });
    let delay = 0;
    for (let i = 0; i < 5000; i++) delay = backoff.when('x');
    expect(delay).toBe(60_000);
  });
});
