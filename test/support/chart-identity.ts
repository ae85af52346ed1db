// The operator's identity and flags as the Helm chart installs it, for running the operator out of
// cluster in the world: the chart rendered by the real helm (test/tools), its ServiceAccount and RBAC
// applied, a token of that ServiceAccount from the TokenRequest API in a kubeconfig, and the manager
// container's flags without the in-pod listen addresses and certificate folder (the world gives
// loopback ones).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { KubeClient } from '../../src/kube/client/client';
import { serviceAccountToken } from './service-account';
import type { ManifestObject } from '../../scripts/deploy/manifests';
import { retarget, serverApply } from '../integration/deploy/server-apply';
import { HELM, runTool, toolBinary } from '../tools/tools';
import { DEPLOY_DIR, managerContainer, parseManifests } from '../unit/deploy/deploy-files';

const CHART_DIR = join(DEPLOY_DIR, 'helm', 'talos-capi');
const IDENTITY_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
/** Flags whose in-pod values (ports on all interfaces, the mounted certificate folder) the world replaces. */
const POD_ONLY_FLAGS = ['health-addr', 'health-probe-bind-address', 'metrics-bind-address', 'diagnostics-address', 'webhook-port', 'webhook-host', 'webhook-cert-dir'];

/** `helm template` of the chart into `namespace` with `values`, with a HOME of its own. */
export async function renderChart(release: string, namespace: string, values: Record<string, unknown>): Promise<ManifestObject[]> {
  const home = mkdtempSync(join(tmpdir(), 'talos-capi-chart-'));
  try {
    const valuesFile = join(home, 'values.json');
    writeFileSync(valuesFile, JSON.stringify(values));
    const run = await runTool(await toolBinary(HELM), ['template', release, CHART_DIR, '-n', namespace, '-f', valuesFile], {
      HOME: home, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data'),
    });
    if (run.code !== 0) throw new Error(`helm template exited ${run.code}: ${run.stderr}`);
    // Each template file starts with a comment-only document (its header), which is no object.
    return parseManifests(run.stdout.split(/^---$/m).filter((doc) => /^[a-z]/im.test(doc)).join('---\n'), 'helm template');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The manager container's arguments, less the flags the world sets for a process on loopback. */
export function managerFlags(objects: readonly ManifestObject[]): string[] {
  return managerContainer(objects).args.filter((arg) => !POD_ONLY_FLAGS.some((flag) => arg.startsWith(`--${flag}=`) || arg === `--${flag}`));
}

/**
 * Applies the rendering's ServiceAccount, roles and bindings, cluster-wide names suffixed (a
 * shared world may hold another install's); returns the ServiceAccount's name.
 */
export async function applyChartIdentity(admin: KubeClient, objects: readonly ManifestObject[], namespace: string, suffix: string): Promise<string> {
  const identity = retarget(objects.filter((object) => IDENTITY_KINDS.includes(object.kind)), namespace, namespace, suffix);
  for (const object of identity) await serverApply(admin, object, false);
  const account = identity.find((object) => object.kind === 'ServiceAccount');
  if (!account) throw new Error('the chart renders no ServiceAccount');
  return account.metadata.name as string;
}

interface Kubeconfig {
  'current-context': string;
  contexts: { name: string; context: { cluster: string } }[];
  clusters: { name: string; cluster: Record<string, unknown> }[];
}

/** A token of the ServiceAccount from the TokenRequest API (an hour long, for the API server's audience). */
/** A kubeconfig at `path` for the admin kubeconfig's cluster that authenticates with a token of the ServiceAccount. */
export async function serviceAccountKubeconfig(admin: KubeClient, adminKubeconfig: string, namespace: string, name: string, path: string): Promise<void> {
  const config = parseYaml(readFileSync(adminKubeconfig, 'utf8')) as Kubeconfig;
  const context = config.contexts.find((c) => c.name === config['current-context']);
  const cluster = config.clusters.find((c) => c.name === context?.context.cluster);
  if (!cluster) throw new Error(`${adminKubeconfig}: no cluster for its current context`);
  const user = `system:serviceaccount:${namespace}:${name}`;
  writeFileSync(path, stringifyYaml({
    apiVersion: 'v1', kind: 'Config', 'current-context': user,
    clusters: [cluster],
    contexts: [{ name: user, context: { cluster: cluster.name, user, namespace } }],
    users: [{ name: user, user: { token: await serviceAccountToken(admin, namespace, name) } }],
  }), { mode: 0o600 });
}

