// The TalosConfig reconciler: fetch → patch helper → (always) conditions + one
// patch → the story: owner, Cluster, pause, already-ready, wait, adopt, generate.
import type { Informer } from '../kube/informer';
import type { KubeClient } from '../kube/client';
import type { EventRecorder } from '../kube/events';
import type { ObjectKey } from '../kube/object';
import { PatchHelper } from '../kube/patch-helper';
import { SingleFlight } from '../kube/single-flight';
import { OwnWrites } from '../kube/own-writes';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../kube/reconciler';
import { PAUSED_ANNOTATION } from '../kube/predicates';
import { V1BETA1 } from '../api/bootstrap/resources';
import { CLUSTER_NAME_LABEL, type Cluster, type Machine, type MachinePool } from '../api/capi/v1beta2/types';
import type { TalosConfig } from '../api/bootstrap/v1beta1/types';
import type { SecretsBundle } from '../talos/config';
import { writeBootstrapData, bootstrapDataSecret } from './bootstrap-data';
import { reconcileTalosconfig } from './client-config';
import { ClusterSecrets } from './cluster-secrets';
import {
  adoptableDataSecretName,
  bootstrapDataSecretName,
  planFor,
  talosconfigEndpoints,
  waitingForCluster,
  writesTalosconfig,
  type ConfigOwner,
} from './decisions';
import { contractOf, InvalidTalosConfig, renderGenerated, renderUserData, requirePlan } from './render';
import {
  OWNED_CONDITIONS,
  markClientConfig,
  markDataSecretAvailable,
  markGenerationFailed,
  markPaused,
  markWaiting,
  setReadySummary,
} from './status';

/** The legacy finalizer CABPT once added; removed on deletion so old objects can go. */
export const LEGACY_FINALIZER = 'talosconfig.bootstrap.cluster.x-k8s.io';

export interface BootstrapReaders {
  configs: Informer<TalosConfig>;
  clusters: Informer<Cluster>;
  machines: Informer<Machine>;
  /** Present only when MachinePool support is on. */
  machinePools?: Informer<MachinePool>;
}

export interface BootstrapDependencies {
  client: KubeClient;
  readers: BootstrapReaders;
  recorder: EventRecorder;
  secrets?: ClusterSecrets;
  now?: () => Date;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class TalosConfigReconciler implements Reconciler {
  private readonly secrets: ClusterSecrets;
  private readonly ownWrites = new OwnWrites();
  /** One talosconfig write per cluster at a time: its control-plane configs reconcile in parallel. */
  private readonly talosconfigWrites = new SingleFlight<Awaited<ReturnType<typeof reconcileTalosconfig>>>();
  private readonly now: () => Date;

  constructor(private readonly deps: BootstrapDependencies) {
    this.secrets = deps.secrets ?? new ClusterSecrets(deps.client);
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const cached = this.deps.readers.configs.get(key.namespace, key.name);
    if (!cached) return;
    if (this.ownWrites.isSuperseded(cached.metadata.uid, cached.metadata.resourceVersion)) return;
    const config = structuredClone(cached);
    const helper = new PatchHelper<TalosConfig>(this.deps.client, V1BETA1.talosConfig, config);
    let failure: unknown;
    try {
      return await this.reconcileConfig(config, ctx);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      if (!config.metadata.deletionTimestamp) {
        setReadySummary(config);
        if (failure === undefined) config.status!.observedGeneration = config.metadata.generation;
      }
      try {
        const written = await helper.patch(config, { ownedConditions: OWNED_CONDITIONS, signal: ctx.signal });
        if (written) this.ownWrites.record(cached.metadata.uid, cached.metadata.resourceVersion);
      } catch (patchError) {
        if (failure === undefined) throw patchError;
        ctx.log.error({ err: messageOf(patchError) }, 'status patch failed after a reconcile error');
      }
    }
  }

  private async reconcileConfig(config: TalosConfig, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    if (config.metadata.deletionTimestamp) {
      config.metadata.finalizers = (config.metadata.finalizers ?? []).filter((f) => f !== LEGACY_FINALIZER);
      return;
    }
    const owner = this.ownerOf(config);
    if (!owner) {
      ctx.log.debug('waiting for a Machine or MachinePool owner reference');
      return;
    }
    const cluster = this.deps.readers.clusters.get(owner.metadata.namespace ?? '', owner.spec.clusterName);
    if (!cluster) {
      ctx.log.info({ cluster: owner.spec.clusterName }, 'waiting for the Cluster');
      return;
    }
    const paused = cluster.spec?.paused === true || PAUSED_ANNOTATION in (config.metadata.annotations ?? {});
    markPaused(config, paused);
    if (paused) return;

    const plan = planFor(config.spec);
    if (config.status?.initialization?.dataSecretCreated) {
      markDataSecretAvailable(config);
      await this.reconcileClientConfig(config, cluster, plan, ctx);
      return;
    }

    const waiting = waitingForCluster(cluster);
    if (waiting) {
      const previous = config.status?.conditions?.find((c) => c.type === 'DataSecretAvailable')?.message;
      if (previous !== waiting) this.deps.recorder.event(config, 'Normal', 'WaitingForCluster', waiting);
      markWaiting(config, waiting);
      return;
    }

    const adopted = adoptableDataSecretName(owner);
    if (adopted) {
      this.markCreated(config, adopted);
      ctx.log.info({ secret: adopted }, 'adopted the data secret already named on the Machine');
      return;
    }

    try {
      const secretName = await this.generate(config, owner, cluster, ctx);
      this.markCreated(config, secretName);
      this.deps.recorder.event(config, 'Normal', 'DataSecretGenerated', `Generated bootstrap data Secret ${secretName}`);
    } catch (error) {
      const invalid = error instanceof InvalidTalosConfig;
      markGenerationFailed(config, messageOf(error), invalid);
      this.deps.recorder.event(config, 'Warning', 'DataSecretGenerationFailed', messageOf(error));
      // Bad input stays bad until the TalosConfig is replaced: report it and wait for a change.
      if (invalid) {
        ctx.log.warn({ err: messageOf(error) }, 'invalid TalosConfig');
        return;
      }
      throw error;
    }
    // In the same pass, so that the status goes out in one patch.
    await this.reconcileClientConfig(config, cluster, plan, ctx);
  }

  /**
   * Machines of this cluster already booted from its bundle: a missing bundle Secret must then be
   * restored, never made anew (a new one would split the cluster's CAs and tokens).
   */
  private clusterAlreadyConfigured(cluster: Cluster): boolean {
    const configs = this.deps.readers.configs.list({
      namespace: cluster.metadata.namespace,
      labels: { [CLUSTER_NAME_LABEL]: cluster.metadata.name! },
    });
    return configs.some((c) => c.status?.initialization?.dataSecretCreated && planFor(c.spec).kind === 'generate' && !c.metadata.deletionTimestamp);
  }

  private markCreated(config: TalosConfig, secretName: string): void {
    config.status ??= {};
    config.status.initialization = { ...(config.status.initialization ?? {}), dataSecretCreated: true };
    config.status.dataSecretName = secretName;
    markDataSecretAvailable(config);
  }

  private ownerOf(config: TalosConfig): ConfigOwner | undefined {
    for (const ref of config.metadata.ownerReferences ?? []) {
      if (!ref.apiVersion.startsWith('cluster.x-k8s.io/')) continue;
      const namespace = config.metadata.namespace ?? '';
      if (ref.kind === 'Machine') return this.deps.readers.machines.get(namespace, ref.name);
      if (ref.kind === 'MachinePool' && this.deps.readers.machinePools) return this.deps.readers.machinePools.get(namespace, ref.name);
    }
    return undefined;
  }

  private async generate(config: TalosConfig, owner: ConfigOwner, cluster: Cluster, ctx: ReconcileContext): Promise<string> {
    const plan = requirePlan(config.spec);
    let data: string;
    if (plan.kind === 'userData') {
      const user = renderUserData(config.spec, owner);
      if (user.kubernetesCA) await this.secrets.ensureKubernetesCA(cluster, user.kubernetesCA);
      data = user.data;
    } else {
      const contract = contractOf(config.spec);
      const { bundle, created } = await this.secrets.bundle(cluster, contract, { allowCreate: !this.clusterAlreadyConfigured(cluster) });
      if (created) this.deps.recorder.event(cluster, 'Normal', 'SecretsBundleCreated', `Created the Talos secrets bundle for cluster ${cluster.metadata.name}`);
      if (bundle.certs.k8s) await this.secrets.ensureKubernetesCA(cluster, bundle.certs.k8s);
      const rendered = renderGenerated({ spec: config.spec, machineType: plan.machineType, owner, cluster, bundle });
      for (const note of rendered.notes) this.deps.recorder.event(config, 'Warning', 'ConfigPatchRewritten', note);
      data = rendered.data;
    }
    const name = bootstrapDataSecretName(owner);
    const outcome = await writeBootstrapData(this.deps.client, bootstrapDataSecret(config, name, owner.spec.clusterName, data), config);
    ctx.log.info({ secret: name, outcome }, 'bootstrap data written');
    return name;
  }

  /** Control-plane configs keep the cluster's talosconfig current; others report nothing here. */
  private async reconcileClientConfig(config: TalosConfig, cluster: Cluster, plan: ReturnType<typeof planFor>, ctx: ReconcileContext): Promise<void> {
    let bundle: SecretsBundle | undefined;
    try {
      if (writesTalosconfig(plan)) {
        bundle = (await this.secrets.bundle(cluster, contractOf(config.spec), { allowCreate: false })).bundle;
      } else if (plan.kind === 'userData') {
        const osCA = renderUserData(config.spec, this.ownerOf(config)!).osCA;
        if (osCA) bundle = { cluster: { id: '', secret: '' }, secrets: { bootstrapToken: '' }, trustdInfo: { token: '' }, certs: { os: osCA } };
      }
      if (!bundle) return;
      const machines = this.deps.readers.machines.list({
        namespace: cluster.metadata.namespace,
        labels: { [CLUSTER_NAME_LABEL]: cluster.metadata.name! },
      });
      const endpoints = talosconfigEndpoints(machines, config.spec.talosconfig?.endpoints);
      const clusterKey = `${cluster.metadata.uid}/${endpoints.join(',')}`;
      const outcome = await this.talosconfigWrites.run(clusterKey, () => reconcileTalosconfig(this.deps.client, cluster, bundle!, endpoints, this.now()));
      if (outcome !== 'unchanged') ctx.log.info({ outcome, endpoints }, 'talosconfig written');
      markClientConfig(config);
    } catch (error) {
      markClientConfig(config, messageOf(error));
      this.deps.recorder.event(config, 'Warning', 'ClientConfigGenerationFailed', messageOf(error));
      throw error;
    }
  }
}
