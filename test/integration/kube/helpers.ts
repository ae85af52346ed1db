// Shared bits of the kube runtime integration tests (real test bed via KUBECONFIG).
import { randomBytes } from 'node:crypto';
import { KubeClient } from '../../../src/kube/client/client';
import { RuntimeMetrics } from '../../../src/kube/http/metrics';
import { ConfigMapKind, type ResourceKind } from '../../../src/kube/client/resource';
import type { KubeObject } from '../../../src/kube/meta/object';

export const NamespaceKind: ResourceKind = { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };
export const ClusterKind: ResourceKind = {
  group: 'cluster.x-k8s.io', version: 'v1beta2', kind: 'Cluster', plural: 'clusters', namespaced: true,
};

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export function testClient(metrics?: RuntimeMetrics): KubeClient {
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('KUBECONFIG is not set: run through the jest integration project');
  return KubeClient.load(kubeconfig, { qps: 0, burst: 1, metrics });
}

export async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await client.create(NamespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

export function configMap(namespace: string, name: string, data: Record<string, string>, labels?: Record<string, string>): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data };
}

export function createConfigMap(client: KubeClient, cm: ConfigMap): Promise<ConfigMap> {
  return client.create(ConfigMapKind, cm);
}

/** Polls `probe` until it returns a truthy value; fails with the last value seen after `timeoutMs`. */
export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(last)}${lastError ? `, last error ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function testbedDir(): string {
  const dir = process.env.TESTBED_DIR;
  if (!dir) throw new Error('TESTBED_DIR is not set: run through the jest integration project');
  return dir;
}
