// What a Talos API test expects of a call that must fail: its TalosApiError.
import { TalosApiError } from '../../src/talos/api';

/** The TalosApiError the call rejects with; any other outcome fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<TalosApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TalosApiError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}
