// The workload clusters this provider runs (one per SimCluster) and the kubelets of its nodes.
// Each workload cluster keeps its files and a record of its processes in
// <stateDir>/workload/<namespace>-<name>/ (processes.json), so that a supervisor can stop what a
// crashed provider left behind. A new workload cluster gets the objects of Talos's bootstrap
// manifests (see bootstrap-manifests.ts) before it counts as started.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIEndpoint } from '../../../src/api/capi/v1beta2/types';
import { startWorkloadCluster, type WorkloadCluster } from '../workload-cluster';
import { SimKubelet, type SimKubeletOptions } from '../kubelet';
import type { ProcessRecord } from '../../testbed/testbed';
import type { StaticPodView } from '../../support/talos-sim';
import { KubeClient } from '../../../src/kube/client/client';
import type { PemPair } from './machine-config';
import { applyBootstrapManifests, type BootstrapManifest } from './bootstrap-manifests';

export interface RunningWorkload {
  server: string;
  kubernetesCa: PemPair;
  adminKubeconfigPath: string;
}

export interface WorkloadSettings {
  serviceCidr?: string;
  nodeMonitorGracePeriodSeconds?: number;
}

export const PROCESS_RECORD_FILE = 'processes.json';

/** processes.json: what runs for one workload cluster, for supervisors (stop) and tests (connect). */
export interface WorkloadRecord {
  cluster: string;
  server: string;
  adminKubeconfigPath: string;
  processes: ProcessRecord[];
}

/** Workload clusters keyed by "<namespace>/<Cluster name>" (what Machines name in spec.clusterName). */
export class WorkloadClusters {
  private readonly running = new Map<string, { workload: RunningWorkload; cluster: WorkloadCluster; dir: string }>();

  constructor(private readonly stateDir: string, private readonly settings: WorkloadSettings = {}) {}

  get(clusterKey: string): RunningWorkload | undefined {
    return this.running.get(clusterKey)?.workload;
  }

  dirFor(namespace: string, simClusterName: string): string {
    return join(this.stateDir, 'workload', `${namespace}-${simClusterName}`);
  }

  async start(clusterKey: string, dir: string, endpoint: Required<APIEndpoint>, kubernetesCa: PemPair, manifests: readonly BootstrapManifest[]): Promise<RunningWorkload> {
    const existing = this.running.get(clusterKey);
    if (existing) return existing.workload;
    mkdirSync(dir, { recursive: true });
    const cluster = await startWorkloadCluster({
      dir, name: clusterKey.replace('/', '-'), endpoint, kubernetesCa,
      serviceCidr: this.settings.serviceCidr, nodeMonitorGracePeriodSeconds: this.settings.nodeMonitorGracePeriodSeconds,
    });
    try {
      await applyBootstrapManifests(KubeClient.load(cluster.adminKubeconfigPath), manifests);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    const record: WorkloadRecord = { cluster: clusterKey, server: cluster.server, adminKubeconfigPath: cluster.adminKubeconfigPath, processes: cluster.processes };
    writeFileSync(join(dir, PROCESS_RECORD_FILE), JSON.stringify(record, null, 2));
    const workload = { server: cluster.server, kubernetesCa, adminKubeconfigPath: cluster.adminKubeconfigPath };
    this.running.set(clusterKey, { workload, cluster, dir });
    return workload;
  }

  async stop(clusterKey: string): Promise<void> {
    const entry = this.running.get(clusterKey);
    if (!entry) return;
    this.running.delete(clusterKey);
    await entry.cluster.stop();
    rmSync(join(entry.dir, PROCESS_RECORD_FILE), { force: true });
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((key) => this.stop(key)));
  }
}

/** Kubelets keyed by "<namespace>/<SimMachine name>", each remembering the server it talks to. */
export class Kubelets {
  private readonly running = new Map<string, { kubelet: SimKubelet; server: string }>();

  serverOf(machineKey: string): string | undefined {
    return this.running.get(machineKey)?.server;
  }

  async start(machineKey: string, options: SimKubeletOptions): Promise<void> {
    this.stop(machineKey);
    const kubelet = new SimKubelet(options);
    this.running.set(machineKey, { kubelet, server: options.server });
    try {
      await kubelet.start();
    } catch (error) {
      this.stop(machineKey);
      throw error;
    }
  }

  /** The running kubelet now runs `version` (what the node's config in effect names). */
  async setKubeletVersion(machineKey: string, version: string): Promise<void> {
    await this.running.get(machineKey)?.kubelet.setKubeletVersion(version);
  }

  /** The running kubelet posts the node's static pods as it now renders them. */
  async setStaticPods(machineKey: string, pods: readonly StaticPodView[]): Promise<void> {
    await this.running.get(machineKey)?.kubelet.setStaticPods(pods);
  }

  stop(machineKey: string): void {
    this.running.get(machineKey)?.kubelet.stop();
    this.running.delete(machineKey);
  }

  stopAll(): void {
    for (const key of [...this.running.keys()]) this.stop(key);
  }
}
