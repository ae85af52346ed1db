// Control-plane endpoints of simulated clusters. Sim nodes take 127.0.0.2 onwards (the
// simulator's `ips` addressing), so endpoints live on a loopback range of their own,
// 127.0.100.1–127.0.100.254, one address per cluster, always on the Kubernetes port 6443:
// Linux answers on all of 127.0.0.0/8 without configuration. The endpoint is stored in the
// SimCluster's spec, so it survives restarts of the provider.
import { createServer } from 'node:net';
import type { APIEndpoint } from '../../../src/api/capi/v1beta2/types';

export const ENDPOINT_PREFIX = '127.0.100.';
export const ENDPOINT_PORT = 6443;
const FIRST_HOST = 1;
const LAST_HOST = 254;

export type CanBind = (host: string, port: number) => Promise<boolean>;

export function endpointCandidates(): string[] {
  return Array.from({ length: LAST_HOST - FIRST_HOST + 1 }, (_, i) => `${ENDPOINT_PREFIX}${FIRST_HOST + i}`);
}

/** The first address of the range that no SimCluster holds and nothing listens on. */
export async function allocateEndpoint(taken: ReadonlySet<string>, canBind: CanBind = canBindLocally): Promise<Required<APIEndpoint>> {
  for (const host of endpointCandidates()) {
    if (taken.has(host)) continue;
    if (await canBind(host, ENDPOINT_PORT)) return { host, port: ENDPOINT_PORT };
  }
  throw new Error(`no free control-plane endpoint left in ${ENDPOINT_PREFIX}${FIRST_HOST}-${LAST_HOST}`);
}

export function canBindLocally(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export const hasEndpoint = (endpoint: APIEndpoint | undefined): endpoint is Required<APIEndpoint> => !!endpoint?.host && !!endpoint.port;
