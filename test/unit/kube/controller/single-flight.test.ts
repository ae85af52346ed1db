import { SingleFlight } from '../../../../src/kube/controller/single-flight';

test('concurrent callers of one key share one run; later calls run again; keys are independent', async () => {
  const flight = new SingleFlight<number>();
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const work = async () => {
    runs++;
    await gate;
    return runs;
  };
  const a = flight.run('k', work);
  const b = flight.run('k', work);
  const other = flight.run('other', async () => 42);
  release();
  expect(await Promise.all([a, b, other])).toEqual([1, 1, 42]);
  expect(runs).toBe(1);
  expect(await flight.run('k', work)).toBe(2);
});

test('a failure reaches every waiter and does not stick', async () => {
  const flight = new SingleFlight<string>();
  const failing = () => Promise.reject(new Error('boom'));
  await expect(Promise.all([flight.run('k', failing), flight.run('k', failing)])).rejects.toThrow('boom');
  expect(await flight.run('k', async () => 'ok')).toBe('ok');
});
