// What every bootstrap integration file needs: a client, the TalosConfig
// controller running in-process, and Talos's own validator (the oracle).
import type { KubeClient } from '../../src/kube/client/client';
import type { Manager } from '../../src/kube/manager/manager';
import { setupBootstrapController, type BootstrapControllerOptions } from '../../src/bootstrap/controller';
import { testClient } from './capi-fixtures';
import { startManager } from './in-process-manager';
import { TalosOracle } from './talos-oracle';

export interface BootstrapEnvironment {
  client: KubeClient;
  oracle: TalosOracle;
  manager: Manager;
}

/** Registers beforeAll/afterAll hooks; the returned object is filled in before the first test. */
export function useBootstrapEnvironment(options: BootstrapControllerOptions = {}): BootstrapEnvironment {
  const env = {} as BootstrapEnvironment;
  beforeAll(async () => {
    env.client = testClient();
    env.oracle = await TalosOracle.start();
    env.manager = await startManager((m) => setupBootstrapController(m, options));
  }, 900_000);
  afterAll(async () => {
    await env.manager?.stop();
    await env.oracle?.close();
  });
  return env;
}
