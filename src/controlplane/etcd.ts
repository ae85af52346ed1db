// etcd bootstrap, once per cluster, through the Talos API of the first control-plane Machine: look
// for etcd's data directory first (a node that already has it was bootstrapped, maybe by an earlier
// operator that died before recording it), call Bootstrap only when no node has it, and count
// ALREADY_EXISTS (a concurrent or earlier call won) as success.
import { TalosApiError, type FileInfo, type NodeResult, type ServiceInfo, type TalosClient } from '../talos/api';
import { countEtcdOperation } from '../metrics/provider-metrics';

/** Where Talos keeps etcd's member data; it exists once etcd has been bootstrapped or joined. */
export const ETCD_MEMBER_DIR = '/var/lib/etcd/member';

export type EtcdBootstrapOutcome = 'bootstrapped' | 'alreadyBootstrapped';

/** Some node listed the directory without a per-file error: etcd has data there. */
export function etcdDataFound(entries: readonly NodeResult<FileInfo>[]): boolean {
  return entries.some((entry) => entry.ok && entry.value.error === '');
}

const isAlreadyExists = (error: unknown) => error instanceof TalosApiError && error.codeName === 'ALREADY_EXISTS';

/** A node asked directly ends the List stream with this error when the root does not exist. */
export const isMissingPath = (error: unknown): boolean => error instanceof TalosApiError && /no such file or directory/.test(error.message);

async function listEtcdData(talos: TalosClient, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<NodeResult<FileInfo>[]> {
  const entries: NodeResult<FileInfo>[] = [];
  try {
    for await (const entry of talos.list({ root: ETCD_MEMBER_DIR }, options)) entries.push(entry);
  } catch (error) {
    if (!isMissingPath(error)) throw error;
  }
  return entries;
}

export function bootstrapEtcdOnce(talos: TalosClient, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<EtcdBootstrapOutcome> {
  return countEtcdOperation('bootstrap', bootstrapUnlessDone(talos, options), (outcome) => (outcome === 'bootstrapped' ? 'success' : 'already_bootstrapped'));
}

async function bootstrapUnlessDone(talos: TalosClient, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<EtcdBootstrapOutcome> {
  if (etcdDataFound(await listEtcdData(talos, options))) return 'alreadyBootstrapped';
  try {
    const replies = await talos.bootstrap({}, options);
    const failed = replies.find((reply) => !reply.ok);
    if (failed && !failed.ok) throw failed.error;
  } catch (error) {
    if (isAlreadyExists(error)) return 'alreadyBootstrapped';
    throw error;
  }
  return 'bootstrapped';
}

/** The node runs etcd and it passes its health check: a member of a cluster with quorum. */
export function etcdServiceHealthy(services: readonly ServiceInfo[]): boolean {
  return services.some((service) => service.id === 'etcd' && service.state === 'Running' && service.health.healthy);
}
