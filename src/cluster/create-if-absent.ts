// The one create-if-absent for Secrets: whoever reaches the API server first
// wins, and everyone else gets the winner's copy. `make` runs only when the
// Secret is absent, so an expensive or refusable body (a new secrets bundle)
// is built only when it is really needed.
import { isAlreadyExists, isNotFound } from '../kube/client/api-error';
import type { KubeClient } from '../kube/client/client';
import { SecretKind } from '../kube/client/resource';
import type { SecretObject } from './secrets';

export interface CreateIfAbsentResult {
  /** The Secret as the API server has it (ours if `created`). */
  secret: SecretObject;
  created: boolean;
}

export interface CreateIfAbsentOptions {
  /** Try the create first: for Secrets that are usually absent (a new Machine's data). */
  expectAbsent?: boolean;
  signal?: AbortSignal;
}

const MAX_RACES = 5;

export async function createIfAbsent(
  client: KubeClient,
  namespace: string,
  name: string,
  make: () => SecretObject | Promise<SecretObject>,
  options: CreateIfAbsentOptions = {},
): Promise<CreateIfAbsentResult> {
  const { signal } = options;
  let readFirst = !options.expectAbsent;
  for (let attempt = 0; attempt < MAX_RACES; attempt++) {
    if (readFirst) {
      try {
        return { secret: await client.get<SecretObject>(SecretKind, namespace, name, signal), created: false };
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    readFirst = true;
    try {
      return { secret: await client.create<SecretObject>(SecretKind, await make(), signal), created: true };
    } catch (error) {
      // Someone else created it first: theirs wins; read it on the next pass.
      if (!isAlreadyExists(error)) throw error;
    }
  }
  throw new Error(`Secret ${namespace}/${name}: gave up after ${MAX_RACES} create/read races`);
}
