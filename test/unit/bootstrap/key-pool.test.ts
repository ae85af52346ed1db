// Keys generated ahead of need: a taker gets a ready key at once, each key goes to one taker, the
// pool refills behind it, and a failed generation is only its taker's error.
import { KeyPool } from '../../../src/bootstrap/key-pool';

/** A generator whose keys the test finishes by hand. */
function manualGenerator() {
  const started: Array<{ resolve: (pem: string) => void; reject: (error: Error) => void }> = [];
  const generate = () => new Promise<string>((resolve, reject) => started.push({ resolve, reject }));
  return { started, generate };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

it('starts filling on first use; later takers get keys made ahead, each once, and the pool refills behind them', async () => {
  const keys = manualGenerator();
  const pool = new KeyPool({ size: 2, parallel: 3, generate: keys.generate });
  expect(keys.started).toHaveLength(0); // nothing made before anyone needs a key
  const first = pool.take();
  expect(keys.started).toHaveLength(3); // the first taker's own key and two ahead
  keys.started.forEach((k, i) => k.resolve(`key-${i}`));
  await expect(first).resolves.toBe('key-0');
  await settled();
  const second = pool.take();
  const third = pool.take();
  await expect(second).resolves.toBe('key-1'); // ready before it was asked for
  await expect(third).resolves.toBe('key-2');
  expect(keys.started).toHaveLength(5); // refilled to two ahead, never more
});

it('hands a failed key to its taker only; the next taker gets a good one', async () => {
  const keys = manualGenerator();
  const pool = new KeyPool({ size: 1, parallel: 2, generate: keys.generate });
  const first = pool.take();
  keys.started[0]!.resolve('own');
  keys.started[1]!.reject(new Error('entropy ran out'));
  await expect(first).resolves.toBe('own');
  await settled(); // no unhandled rejection while nobody waits for the failed key
  await expect(pool.take()).rejects.toThrow('entropy ran out');
  keys.started[2]!.resolve('next');
  await expect(pool.take()).resolves.toBe('next');
});

it('generates at most `parallel` keys at once, the oldest request first', async () => {
  const keys = manualGenerator();
  const pool = new KeyPool({ size: 2, parallel: 1, generate: keys.generate });
  const first = pool.take();
  await settled();
  expect(keys.started).toHaveLength(1); // the taker's own key; the two ahead wait their turn
  keys.started[0]!.resolve('first');
  await expect(first).resolves.toBe('first');
  await settled();
  expect(keys.started).toHaveLength(2);
  keys.started[1]!.resolve('ahead');
  await expect(pool.take()).resolves.toBe('ahead');
});

it('warmUp fills the pool ahead of the first taker, who then waits for no generation of its own', async () => {
  const keys = manualGenerator();
  const pool = new KeyPool({ size: 2, parallel: 3, generate: keys.generate });
  pool.warmUp();
  expect(keys.started).toHaveLength(2);
  pool.warmUp(); // already full: nothing more
  expect(keys.started).toHaveLength(2);
  keys.started.forEach((k, i) => k.resolve(`key-${i}`));
  await settled();
  await expect(pool.take()).resolves.toBe('key-0');
  expect(keys.started).toHaveLength(3); // only the refill behind it
});
