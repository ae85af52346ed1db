// Server streams as async iterables. Breaking out of a `for await` (or an
// aborted signal) cancels the call on the server.
import type { ClientReadableStream } from '@grpc/grpc-js';

/** Yields a gRPC server stream's messages; the stream's error is thrown as mapped by `mapError`. */
export async function* iterateStream<T>(
  call: ClientReadableStream<T>,
  mapError: (err: unknown) => Error,
  signal?: AbortSignal,
): AsyncGenerator<T, void, undefined> {
  const abort = (): void => call.cancel();
  if (signal?.aborted) abort();
  else signal?.addEventListener('abort', abort, { once: true });
  try {
    for await (const message of call as AsyncIterable<T>) yield message;
  } catch (err) {
    throw mapError(err);
  } finally {
    signal?.removeEventListener('abort', abort);
    // Ends the call if the consumer stopped early; a no-op after the stream finished.
    call.cancel();
  }
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
