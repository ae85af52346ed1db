// Control-plane endpoints of simulated clusters. Sim nodes take 127.1–99.x.x (the simulator's
// `ips` addressing), so endpoints live on a loopback range of their own, a /24 in
// 127.0.100–199.x picked at random per provider process (two worlds side by side never reach for
// the same address between one's free check and its apiserver's bind), one address per cluster,
// always on the Kubernetes port 6443:
// Linux answers on all of 127.0.0.0/8 without configuration. The endpoint is stored in the
// SimCluster's spec, so it survives restarts of the provider.
import { createServer } from 'node:net';
import type { APIEndpoint } from '../../../src/api/capi/v1beta2/types';

export function endpointPrefix(random: () => number = Math.random): string {
  return `127.0.${100 + Math.floor(random() * 100)}.`;
}

/** This process's endpoint range. */
export const ENDPOINT_PREFIX = endpointPrefix();
export const ENDPOINT_PORT = 6443;
const FIRST_HOST = 1;
const LAST_HOST = 254;

export type CanBind = (host: string, port: number) => Promise<boolean>;

function endpointCandidates(prefix: string): string[] {
  return Array.from({ length: LAST_HOST - FIRST_HOST + 1 }, (_, i) => `${prefix}${FIRST_HOST + i}`);
}

/** The first address of the range that no SimCluster holds and nothing listens on. */
export async function allocateEndpoint(
  taken: ReadonlySet<string>, canBind: CanBind = canBindLocally, prefix: string = ENDPOINT_PREFIX,
): Promise<Required<APIEndpoint>> {
  for (const host of endpointCandidates(prefix)) {
    if (taken.has(host)) continue;
    if (await canBind(host, ENDPOINT_PORT)) return { host, port: ENDPOINT_PORT };
  }
  throw new Error(`no free control-plane endpoint left in ${prefix}${FIRST_HOST}-${LAST_HOST}`);
}

export function canBindLocally(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export const hasEndpoint = (endpoint: APIEndpoint | undefined): endpoint is Required<APIEndpoint> => !!endpoint?.host && !!endpoint.port;
