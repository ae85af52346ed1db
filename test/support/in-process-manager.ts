// A manager running inside the jest worker against the test bed, with the
// controllers a test asks for. No leader election, probes or metrics ports.
import { Manager } from '../../src/kube/manager/manager';
import { testClient } from './capi-fixtures';

export async function startManager(setup: (manager: Manager) => void, options: { concurrency?: number } = {}): Promise<Manager> {
  const manager = new Manager({
    client: testClient(),
    healthAddr: '',
    metricsAddr: '',
    defaultConcurrency: options.concurrency ?? 10,
    informerDefaults: { staleAfterMs: 60_000 },
  });
  setup(manager);
  await manager.start();
  return manager;
}
