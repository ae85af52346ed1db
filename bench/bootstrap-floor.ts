// The floor bench:bootstrap compares the operator with: the work that has to happen between the first
// create and the last config ready, whoever does it, done by a tight program with the operator
// stopped. That is the bench's own creates (the operator cannot finish before its input exists and
// the API server serves both), the operator's writes (as Secret creates), and the secrets bundles
// it had to make (their keys: RSA-4096 ones from Talos 1.7 on), all at once on the same machine,
// each with the parallelism its real author has: the creates as many at once as the bench sends,
// the writes as many as the operator's --concurrency (a single pool of 32 for both was beaten by
// the operator once it stopped wasting round trips). Ordering between them (a config's writes
// after its create, a cluster's configs after its bundle) is left out, so it is a lower bound.
import { SecretKind } from '../src/kube/client/resource';
import type { KubeClient } from '../src/kube/client/client';
import { generateSecretsBundle, parseContract } from '../src/talos/config';

export interface FloorWork {
  /** Creates the same input objects the bench created (in fresh namespaces). */
  createInput: Array<() => Promise<void>>;
  /** Writes the operator made, Events included. */
  writes: number;
  /** Secrets bundles the operator made, and for which Talos version. */
  bundles: number;
  talosVersion: string;
  /** Requests in flight: the bench's creates, and the operator's writes (its --concurrency). */
  createParallel: number;
  writeParallel: number;
}

export interface Floor {
  seconds: number;
  /** The writes alone, 32 at a time (the floor bench:bootstrap printed before it counted the rest). */
  writesOnlySeconds: number;
  /** The bundles alone. */
  bundlesSeconds: number;
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

const WRITES_ONLY_PARALLEL = 32;

const elapsed = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
};

export async function measureFloor(client: KubeClient, namespace: string, work: FloorWork): Promise<Floor> {
  let written = 0;
  const writeOne = () =>
    client.create(SecretKind, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: `floor-${written++}`, namespace },
      data: { value: Buffer.alloc(6000, 1).toString('base64') },
    }).then(() => undefined);
  const writes = Array.from({ length: work.writes }, () => writeOne);
  const contract = parseContract(work.talosVersion);
  const makeBundles = () => Promise.all(Array.from({ length: work.bundles }, () => generateSecretsBundle({ contract })));

  const writesOnlySeconds = await elapsed(() => pool(writes, WRITES_ONLY_PARALLEL, (write) => write()));
  const bundlesSeconds = await elapsed(makeBundles);
  const seconds = await elapsed(() => Promise.all([
    pool(work.createInput, work.createParallel, (create) => create()),
    pool(writes, work.writeParallel, (write) => write()),
    makeBundles(),
  ]));
  return { seconds, writesOnlySeconds, bundlesSeconds };
}
