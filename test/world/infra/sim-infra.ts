// The simulated infrastructure provider as one object: a manager with the SimCluster and
// SimMachine controllers, a Talos simulator (its own, or one already running), and the
// workload clusters and kubelets it starts. stop() ends all of it, in that order: controllers
// first (nothing new starts), then kubelets, workload clusters and an owned simulator.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KubeClient } from '../../../src/kube/client/client';
import { type Logger, silentLogger } from '../../../src/kube/log/logger';
import { Manager } from '../../../src/kube/manager/manager';
import { TalosSim, type RuntimeMode } from '../../support/talos-sim';
import { setupSimInfraControllers } from './controllers';
import { SimControlClient } from './sim-control';
import { Kubelets, WorkloadClusters, type WorkloadSettings } from './workloads';

export const INFRA_STATE_FILE = 'infra.json';

export interface SimInfraOptions {
  client: KubeClient;
  /** Holds infra.json and the workload clusters' folders. */
  stateDir: string;
  /** Control URL of a running simulator; absent: start one (ips addressing). */
  simControlUrl?: string;
  /** Mode of an own simulator (default metal; SimMachine.spec.talosMode overrides per node). */
  simMode?: RuntimeMode;
  workload?: WorkloadSettings;
  kubeletHeartbeatMs?: number;
  /** "host:port" for /healthz and /readyz; "" (default) serves none. */
  healthAddr?: string;
  namespace?: string;
  logger?: Logger;
}

/** What infra.json tells a test or supervisor. */
export interface SimInfraState {
  pid: number;
  simControlUrl: string;
  ownSimulator: boolean;
  healthAddress?: string;
  workloadDir: string;
}

export interface SimInfra {
  simControlUrl: string;
  manager: Manager;
  state: SimInfraState;
  stop(): Promise<void>;
}

export async function startSimInfra(options: SimInfraOptions): Promise<SimInfra> {
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const logger = options.logger ?? silentLogger();
  const ownSim = options.simControlUrl ? undefined : await TalosSim.start({ addressing: 'ips', mode: options.simMode ?? 'metal' });
  const simControlUrl = options.simControlUrl ?? ownSim!.controlUrl;
  const workloads = new WorkloadClusters(stateDir, options.workload);
  const kubelets = new Kubelets();
  const manager = new Manager({
    client: options.client, logger, healthAddr: options.healthAddr ?? '', metricsAddr: '', namespace: options.namespace,
    defaultConcurrency: 4, eventComponent: 'sim-infra',
  });
  setupSimInfraControllers(manager, { sim: new SimControlClient(simControlUrl), workloads, kubelets, kubeletHeartbeatMs: options.kubeletHeartbeatMs });

  const stopAll = async () => {
    await manager.stop();
    kubelets.stopAll();
    await workloads.stopAll();
    await ownSim?.shutdown();
  };
  try {
    await manager.start();
  } catch (error) {
    await stopAll();
    throw error;
  }
  const state: SimInfraState = {
    pid: process.pid, simControlUrl, ownSimulator: !!ownSim, healthAddress: manager.healthAddress, workloadDir: join(stateDir, 'workload'),
  };
  writeFileSync(join(stateDir, INFRA_STATE_FILE), JSON.stringify(state, null, 2));
  logger.info(state, 'simulated infrastructure provider running');
  let stopped: Promise<void> | undefined;
  return { simControlUrl, manager, state, stop: () => (stopped ??= stopAll()) };
}
