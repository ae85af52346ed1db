// Wires the TalosConfig reconciler into the manager: TalosConfig is the
// primary; Machines and MachinePools map to the config they reference;
// Clusters map to the configs of their Machines when something a config waits
// for changes (pause, infrastructure, control-plane endpoint).
import type { Controller } from '../kube/controller/controller';
import type { Informer } from '../kube/cache/informer';
import type { Manager } from '../kube/manager/manager';
import type { KubeObject, ObjectKey } from '../kube/meta/object';
import type { Predicate } from '../kube/controller/predicates';
import { ClusterKind, MachineKind, MachinePoolKind } from '../api/capi/v1beta2/resources';
import { V1BETA1 } from '../api/bootstrap/resources';
import { CLUSTER_NAME_LABEL, type Cluster, type ContractVersionedObjectReference, type Machine, type MachinePool } from '../api/capi/v1beta2/types';
import type { TalosConfig } from '../api/bootstrap/v1beta1/types';
import { BOOTSTRAP_GROUP, TALOS_CONFIG_KIND } from '../api/bootstrap/group';
import type { ClusterSecrets } from './cluster-secrets';
import { TalosConfigReconciler } from './reconciler';

export const BOOTSTRAP_CONTROLLER = 'talosconfig';

export interface BootstrapControllerOptions {
  /** Watch MachinePools too (Cluster API's MachinePool feature gate). */
  machinePools?: boolean;
  /** Where cluster bundles are held; one of its own by default. */
  secrets?: ClusterSecrets;
}

/** The TalosConfig a bootstrap configRef names, if it names one of ours. */
export function talosConfigKeyOf(ref: ContractVersionedObjectReference | undefined, namespace: string): ObjectKey[] {
  if (!ref || ref.kind !== TALOS_CONFIG_KIND || ref.apiGroup !== BOOTSTRAP_GROUP || !ref.name) return [];
  return [{ namespace, name: ref.name }];
}

const endpointOf = (cluster: Cluster) => `${cluster.spec?.controlPlaneEndpoint?.host ?? ''}:${cluster.spec?.controlPlaneEndpoint?.port ?? 0}`;

/** Cluster updates that can unblock or pause a TalosConfig; creates and deletes always pass. */
export function clusterChangesThatMatter(): Predicate<Cluster> {
  return {
    update: (oldCluster, cluster) =>
      (oldCluster.spec?.paused ?? false) !== (cluster.spec?.paused ?? false) ||
      (oldCluster.status?.initialization?.infrastructureProvisioned ?? false) !== (cluster.status?.initialization?.infrastructureProvisioned ?? false) ||
      endpointOf(oldCluster) !== endpointOf(cluster),
  };
}

export function setupBootstrapController(manager: Manager, options: BootstrapControllerOptions = {}): Controller {
  const informer = <T extends KubeObject>(kind: Parameters<Manager['informer']>[0]) => manager.informer(kind) as unknown as Informer<T>;
  const machines = informer<Machine>(MachineKind);
  const machinePools = options.machinePools ? informer<MachinePool>(MachinePoolKind) : undefined;

  const configs = informer<TalosConfig>(V1BETA1.talosConfig);
  const keyOf = (config: TalosConfig): ObjectKey => ({ namespace: config.metadata.namespace ?? '', name: config.metadata.name ?? '' });
  // A config may reach the cache before its owner or Cluster does (they are watched apart): it is
  // found again through its owner reference and its cluster-name label, not only through the
  // Machine's configRef, so that the owner's or the Cluster's arrival brings the pass it waits for.
  const configsOwnedBy = (owner: KubeObject, kind: string): ObjectKey[] =>
    configs.list({ namespace: owner.metadata.namespace ?? '' })
      .filter((c) => (c.metadata.ownerReferences ?? []).some((ref) => ref.kind === kind && ref.name === owner.metadata.name))
      .map(keyOf);
  const configsOfMachine = (m: Machine): ObjectKey[] =>
    [...talosConfigKeyOf(m.spec.bootstrap?.configRef, m.metadata.namespace ?? ''), ...configsOwnedBy(m, 'Machine')];

  const configsOfCluster = (cluster: Cluster): ObjectKey[] => {
    const namespace = cluster.metadata.namespace ?? '';
    const selector = { namespace, labels: { [CLUSTER_NAME_LABEL]: cluster.metadata.name ?? '' } };
    return [
      ...machines.list(selector).flatMap((m) => talosConfigKeyOf(m.spec.bootstrap?.configRef, namespace)),
      ...(machinePools?.list(selector) ?? []).flatMap((p) => talosConfigKeyOf(p.spec.template.spec.bootstrap?.configRef, namespace)),
      ...configs.list(selector).map(keyOf),
    ];
  };

  const clusters = informer<Cluster>(ClusterKind);
  const reconciler = new TalosConfigReconciler({
    client: manager.client,
    recorder: manager.recorder(),
    secrets: options.secrets,
    readers: {
      configs,
      clusters,
      machines,
      machinePools,
    },
  });
  // Key material is held per Cluster only while the Cluster exists.
  clusters.addHandlers({ delete: (cluster) => reconciler.forgetCluster(cluster.metadata.uid) });

  let builder = manager
    .controller(BOOTSTRAP_CONTROLLER)
    .for(V1BETA1.talosConfig)
    .watches<Machine>(MachineKind, configsOfMachine)
    .watches<Cluster>(ClusterKind, configsOfCluster, { predicates: [clusterChangesThatMatter()] });
  if (machinePools) {
    builder = builder.watches<MachinePool>(MachinePoolKind, (p) =>
      [...talosConfigKeyOf(p.spec.template.spec.bootstrap?.configRef, p.metadata.namespace ?? ''), ...configsOwnedBy(p, 'MachinePool')],
    );
  }
  return builder.complete(reconciler);
}
