// The TalosConfig reconciler: fetch → patch helper → (always) conditions + one
// patch → the story: owner, Cluster, pause, already-ready, wait, one config per
// owner, adopt, generate. Every failure, whatever throws, ends in a condition
// and a Warning Event; faults that only a change elsewhere can fix (the bundle
// Secret, a foreign Secret, another config) are looked at again on a timer.
import type { Informer } from '../kube/cache/informer';
import type { KubeClient } from '../kube/client/client';
import type { EventRecorder } from '../kube/patch/events';
import type { ObjectKey } from '../kube/meta/object';
import { ownerKeys } from '../kube/meta/owners';
import { reconcileInFrame, type FailureOutcome } from '../kube/controller/reconcile-frame';
import { SingleFlight } from '../kube/controller/single-flight';
import { isNotFound } from '../kube/client/api-error';
import { SecretKind } from '../kube/client/resource';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../kube/controller/reconciler';
import { PAUSED_ANNOTATION } from '../kube/controller/predicates';
import { deepCopy } from '../util/json';
import { errorMessage } from '../util/errors';
import { V1BETA1 } from '../api/bootstrap/resources';
import { CLUSTER_NAME_LABEL, type Cluster, type Machine, type MachinePool } from '../api/capi/v1beta2/types';
import type { TalosConfig } from '../api/bootstrap/v1beta1/types';
import type { SecretsBundle } from '../talos/config';
import { InvalidSecretsBundle } from '../cluster/bundle-secret';
import { SecretOwnershipConflict } from '../cluster/ownership';
import { writeBootstrapData, bootstrapDataSecret, type BootstrapDataOutcome } from './bootstrap-data';
import { IssuedCertificates, reconcileTalosconfig, type TalosconfigResult } from './client-config';
import { ClusterSecrets } from './cluster-secrets';
import {
  adoptableDataSecretName,
  bootstrapDataSecretName,
  configClaimingOwner,
  planFor,
  requeueForRenewal,
  talosconfigEndpoints,
  waitingForCluster,
  writesTalosconfig,
  type ConfigOwner,
} from './decisions';
import { OwnWrites } from './own-writes';
import { checkedPlan, renderBootstrapData } from './machine-config';
import { contractOf, InvalidTalosConfig, renderUserData } from './render';
import { countConfigRender } from '../metrics/provider-metrics';
import {
  OWNED_CONDITIONS,
  Reasons,
  markClientConfig,
  markDataSecretAvailable,
  markGenerationFailed,
  markPaused,
  markWaiting,
  setReadySummary,
  type FailureReason,
} from './status';

/** The legacy finalizer CABPT once added; removed on deletion so old objects can go. */
export const LEGACY_FINALIZER = 'talosconfig.bootstrap.cluster.x-k8s.io';

/** How soon a fault someone else must fix (a Secret, another config) is looked at again. */
const RECHECK_MS = 30_000;

/** Bootstrap data Secrets read at once when looking for proof that a cluster used a bundle. */
const PARALLEL_EVIDENCE_READS = 8;

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

/** Another TalosConfig already bootstraps this config's owner: this one must not write its Secret. */
class OwnerHasAnotherConfig extends Error {
  constructor(owner: ConfigOwner, first: string) {
    super(`${owner.kind} ${owner.metadata.name} is already bootstrapped by TalosConfig ${first}; this TalosConfig is not used (delete it)`);
    this.name = 'OwnerHasAnotherConfig';
  }
}

function reasonOf(error: unknown): FailureReason {
  if (error instanceof InvalidTalosConfig) return Reasons.invalidConfig;
  if (error instanceof InvalidSecretsBundle) return Reasons.invalidSecretsBundle;
  if (error instanceof SecretOwnershipConflict) return Reasons.secretConflict;
  if (error instanceof OwnerHasAnotherConfig) return Reasons.ownerHasAnotherConfig;
  return Reasons.internalError;
}

/**
 * The copy a pass works on. The spec is shared with the cache, never written, and never copied:
 * it is the user's and may be arbitrarily deep.
 */
function workingCopy(cached: TalosConfig): TalosConfig {
  return {
    ...cached,
    metadata: deepCopy(cached.metadata),
    ...(cached.status ? { status: deepCopy(cached.status) } : {}),
  };
}

/** What the patch helper compares and sends: everything this controller writes, no spec. */
function writtenPart(config: TalosConfig): TalosConfig {
  return { apiVersion: config.apiVersion, kind: config.kind, metadata: config.metadata, ...(config.status ? { status: config.status } : {}) } as TalosConfig;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Work started now whose failure matters only once someone awaits it (no unhandled rejection meanwhile). */
function settled<T>(work: Promise<T>): Promise<Settled<T>> {
  return work.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
}

function outcomeOf<T>(result: Settled<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/** One reconcile of one config: what it works on, and which condition a failure belongs to. */
interface Pass {
  config: TalosConfig;
  ctx: ReconcileContext;
  stage: 'dataSecret' | 'clientConfig';
}

export class TalosConfigReconciler implements Reconciler {
  private readonly secrets: ClusterSecrets;
  private readonly ownWrites = new OwnWrites();
  /** One talosconfig write per cluster at a time: its control-plane configs reconcile in parallel. */
  private readonly talosconfigWrites = new SingleFlight<TalosconfigResult>();
  private readonly issuedCertificates = new IssuedCertificates();
  private readonly now: () => Date;

  constructor(private readonly deps: BootstrapDependencies) {
    this.now = deps.now ?? (() => new Date());
    this.secrets = deps.secrets ?? new ClusterSecrets(deps.client, { now: this.now });
  }

  /** On the leader, before the first config: a new cluster's service-account key is made ahead of need. */
  started(): void {
    this.secrets.warmUp();
  }

  /** The Cluster is gone: drop the key material held for it. */
  forgetCluster(clusterUid: string | undefined): void {
    if (!clusterUid) return;
    this.secrets.forget(clusterUid);
    this.issuedCertificates.forget(clusterUid);
  }

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const cached = this.deps.readers.configs.get(key.namespace, key.name);
    if (!cached) return;
    if (this.ownWrites.isSuperseded(cached.metadata.uid, cached.metadata.resourceVersion)) return;
    const config = workingCopy(cached);
    const pass: Pass = { config, ctx, stage: 'dataSecret' };
    return reconcileInFrame(
      {
        client: this.deps.client, kind: V1BETA1.talosConfig, obj: config, ctx, ownedConditions: OWNED_CONDITIONS, written: writtenPart,
        onPatched: (written) => this.ownWrites.record(cached.metadata.uid, cached.metadata.resourceVersion, written.metadata.resourceVersion),
      },
      { run: () => this.reconcileConfig(pass), failed: (error) => this.report(pass, error), summarize: () => setReadySummary(config) },
    );
  }

  /**
   * The failure as a condition (on the part of the work it stopped) and a Warning Event. Bad input
   * waits for a new spec; faults outside the config are looked at again; the rest retry with backoff.
   */
  private report(pass: Pass, error: unknown): FailureOutcome {
    const { config, ctx } = pass;
    const message = errorMessage(error);
    const reason = reasonOf(error);
    ctx.log.warn({ err: message, reason, stage: pass.stage }, 'reconcile failed');
    if (config.metadata.deletionTimestamp) return { retry: true };
    const generic = reason === Reasons.invalidConfig || reason === Reasons.internalError;
    if (pass.stage === 'clientConfig') {
      markClientConfig(config, message, reason);
      this.deps.recorder.event(config, 'Warning', generic ? 'ClientConfigGenerationFailed' : reason, message);
    } else {
      markGenerationFailed(config, message, reason);
      this.deps.recorder.event(config, 'Warning', generic ? 'DataSecretGenerationFailed' : reason, message);
    }
    if (reason === Reasons.internalError) return { retry: true };
    if (reason === Reasons.invalidConfig) return { retry: false };
    return { retry: false, result: { requeueAfter: RECHECK_MS } };
  }

  private async reconcileConfig(pass: Pass): Promise<ReconcileResult | void> {
    const { config, ctx } = pass;
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
      pass.stage = 'clientConfig';
      return this.reconcileClientConfig(pass, cluster, plan);
    }

    const waiting = waitingForCluster(cluster);
    if (waiting) {
      const previous = config.status?.conditions?.find((c) => c.type === 'DataSecretAvailable')?.message;
      if (previous !== waiting) this.deps.recorder.event(config, 'Normal', 'WaitingForCluster', waiting);
      markWaiting(config, waiting);
      return;
    }

    const claimant = configClaimingOwner(owner.metadata.uid ?? '', this.deps.readers.configs.list({ namespace: config.metadata.namespace }));
    if (claimant && claimant.metadata.uid !== config.metadata.uid) throw new OwnerHasAnotherConfig(owner, claimant.metadata.name!);

    const adopted = adoptableDataSecretName(owner);
    if (adopted) {
      this.markCreated(config, adopted);
      ctx.log.info({ secretName: adopted }, 'adopted the data secret already named on the Machine');
      return;
    }

    const bundle = await this.clusterBundle(pass, cluster);
    // The talosconfig in the same pass, so that the status goes out in one patch, and alongside the
    // data Secret: neither waits for the other. Its failure counts only once the data is written.
    const clientConfig = settled(this.reconcileClientConfig(pass, cluster, plan, bundle));
    let secretName: string;
    try {
      secretName = await this.generate(pass, owner, cluster, bundle);
    } catch (error) {
      // The pass ends with none of its writes still in flight.
      await clientConfig;
      throw error;
    }
    this.markCreated(config, secretName);
    this.deps.recorder.event(config, 'Normal', 'DataSecretGenerated', `Generated bootstrap data Secret ${secretName}`);
    pass.stage = 'clientConfig';
    return outcomeOf(await clientConfig);
  }

  /**
   * Has this cluster already used a secrets bundle? Any one proof will do: a generated config
   * that made its data (found by label or through its owner's spec.clusterName — hand-made
   * configs carry no label), the cluster's `<cluster>-ca`, or a bootstrap data Secret a
   * TalosConfig made for one of its machines.
   */
  private async clusterUsedABundle(cluster: Cluster, signal: AbortSignal): Promise<boolean> {
    const namespace = cluster.metadata.namespace ?? '';
    const clusterName = cluster.metadata.name!;
    const configured = this.deps.readers.configs.list({ namespace }).some(
      (c) =>
        c.status?.initialization?.dataSecretCreated &&
        planFor(c.spec).kind === 'generate' &&
        (c.metadata.labels?.[CLUSTER_NAME_LABEL] === clusterName || this.ownerOf(c)?.spec.clusterName === clusterName),
    );
    if (configured) return true;
    const owners: ConfigOwner[] = [
      ...this.deps.readers.machines.list({ namespace }),
      ...(this.deps.readers.machinePools?.list({ namespace }) ?? []),
    ].filter((o) => o.spec.clusterName === clusterName);
    if (owners.some((o) => o.kind === 'Machine' && o.spec.bootstrap?.dataSecretName)) return true;
    // The reads side by side, a few at a time, not one after another: every config of a new
    // cluster waits for this.
    const reads = [
      () => this.secrets.kubernetesCAExists(cluster, signal),
      ...owners.map((owner) => () => this.madeByATalosConfig(namespace, bootstrapDataSecretName(owner), signal)),
    ];
    for (let i = 0; i < reads.length; i += PARALLEL_EVIDENCE_READS) {
      const found = await Promise.all(reads.slice(i, i + PARALLEL_EVIDENCE_READS).map((read) => read()));
      if (found.includes(true)) return true;
    }
    return false;
  }

  /** Only data a TalosConfig made proves a bundle; a stranger's Secret of that name does not. */
  private async madeByATalosConfig(namespace: string, name: string, signal: AbortSignal): Promise<boolean> {
    try {
      return ownerKeys(await this.deps.client.get(SecretKind, namespace, name, signal), V1BETA1.talosConfig).length > 0;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
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

  /** The cluster's bundle for a config that generates its machine config (read, or made once for the cluster). */
  private async clusterBundle({ config, ctx }: Pass, cluster: Cluster): Promise<SecretsBundle | undefined> {
    const { signal } = ctx;
    if (checkedPlan(config.spec).kind !== 'generate') return undefined;
    const result = await this.secrets.bundle(cluster, {
      contract: contractOf(config.spec),
      verify: true,
      signal,
      clusterUsedABundle: () => this.clusterUsedABundle(cluster, signal),
    });
    if (result.outcome === 'created') this.deps.recorder.event(cluster, 'Normal', 'SecretsBundleCreated', `Created the Talos secrets bundle for cluster ${cluster.metadata.name}`);
    if (result.outcome === 'restored') {
      this.deps.recorder.event(cluster, 'Warning', 'SecretsBundleRestored', `The Talos secrets bundle Secret of cluster ${cluster.metadata.name} was deleted; restored it from the copy this operator held`);
    }
    return result.bundle;
  }

  /**
   * Writes the cluster's Kubernetes CA (from the bundle, whatever the render makes of the config)
   * and, beside it, renders the machine config and writes the data Secret.
   */
  private async generate({ config, ctx }: Pass, owner: ConfigOwner, cluster: Cluster, bundle: SecretsBundle | undefined): Promise<string> {
    const { signal } = ctx;
    const bundleCA = settled(bundle?.certs.k8s ? this.secrets.ensureKubernetesCA(cluster, bundle.certs.k8s, signal) : Promise.resolve(false));
    let outcome: BootstrapDataOutcome;
    const name = bootstrapDataSecretName(owner);
    try {
      const { data, notes, kubernetesCA } = countConfigRender(() => renderBootstrapData({ spec: config.spec, owner, cluster, bundle }), (error) => error instanceof InvalidTalosConfig);
      for (const note of notes) this.deps.recorder.event(config, 'Warning', 'ConfigPatchRewritten', note);
      [outcome] = await Promise.all([
        writeBootstrapData(this.deps.client, bootstrapDataSecret(config, name, owner.spec.clusterName, data), config, signal),
        kubernetesCA ? this.secrets.ensureKubernetesCA(cluster, kubernetesCA, signal) : undefined,
      ]);
    } catch (error) {
      // The config's own error is the one to report; the pass ends with no write in flight.
      await bundleCA;
      throw error;
    }
    outcomeOf(await bundleCA);
    ctx.log.info({ secretName: name, outcome }, 'bootstrap data written');
    return name;
  }

  /**
   * Control-plane configs keep the cluster's talosconfig current and come back when its
   * certificate is due for renewal; others report nothing here.
   */
  private async reconcileClientConfig(
    { config, ctx }: Pass, cluster: Cluster, plan: ReturnType<typeof planFor>, generatedFrom?: SecretsBundle,
  ): Promise<ReconcileResult | void> {
    const { signal } = ctx;
    let bundle: SecretsBundle | undefined;
    if (writesTalosconfig(plan)) {
      // This config made its data from the bundle: the cluster has used one, never make another.
      const used = () => Promise.resolve(true);
      bundle = generatedFrom ?? (await this.secrets.bundle(cluster, { contract: contractOf(config.spec), clusterUsedABundle: used, signal })).bundle;
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
    const written = await this.talosconfigWrites.run(clusterKey, () => reconcileTalosconfig(this.deps.client, cluster, bundle!, endpoints, this.now(), this.issuedCertificates, signal));
    if (written.outcome !== 'unchanged') ctx.log.info({ outcome: written.outcome, endpoints }, 'talosconfig written');
    markClientConfig(config);
    return { requeueAfter: requeueForRenewal(written.renewAt, this.now()) };
  }
}
