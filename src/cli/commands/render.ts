// talos-capi render: the bootstrap data the operator would write for a TalosConfig (or
// TalosConfigTemplate, or a TalosControlPlane's Machine) in a Cluster, from manifests, before they
// are pushed. It renders through the reconciler's own function (src/bootstrap/machine-config.ts):
// given the cluster's secrets bundle the output is the Secret's value byte for byte.
import { CLUSTER_NAME_LABEL, type Cluster } from '../../api/capi/v1beta2/types';
import type { TalosConfigSpec } from '../../api/bootstrap/spec';
import { controlPlaneEndpointUrl, type ConfigOwner, type MachineType } from '../../bootstrap/decisions';
import { checkedPlan, renderBootstrapData, type UsablePlan } from '../../bootstrap/machine-config';
import { contractOf, InvalidTalosConfig } from '../../bootstrap/render';
import { Reasons } from '../../bootstrap/status';
import { generateSecretsBundle, SecretsBundleError, type SecretsBundle } from '../../talos/config';
import { keyPairProblems } from '../../talos/config/secrets/key-pairs';
import { UsageError, type Flags } from '../args';
import type { CommandIO } from '../io';
import type { FlagCommand } from './command';
import { FORCE_FLAG, outputFlag, readBundle, secretsFlag, writeResult } from './shared';
import { parseManifests, pickCluster, pickConfig, pickOwner, renderSource, stubMachine, withOverrides, type Manifest } from './render-inputs';

const ROLES: readonly MachineType[] = ['init', 'controlplane', 'worker'];

function readManifests(io: CommandIO, path: string, what: string): Manifest[] {
  return parseManifests(io.readFile(path, what), path);
}

/** The spec with the role --role asks for in place of its generateType. */
function withRole(spec: TalosConfigSpec, role: string | undefined): TalosConfigSpec {
  if (role === undefined) return spec;
  if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')} (got "${role}")`);
  if (spec.generateType === 'none') throw new UsageError('--role cannot apply to generateType "none": its machine config is spec.data as given');
  return { ...spec, generateType: role };
}

/** The bundle from --secrets, checked whole as the operator checks the bundle Secret. */
function bundleFromFile(io: CommandIO, path: string): SecretsBundle {
  let bundle: SecretsBundle;
  try {
    bundle = readBundle(io, path);
  } catch (error) {
    if (error instanceof SecretsBundleError) throw new UsageError(`secrets bundle ${path} cannot be read: ${error.message}`);
    throw error;
  }
  const problems = keyPairProblems(bundle, new Date());
  if (problems.length > 0) throw new UsageError(`secrets bundle ${path} is not usable: ${problems.map((p) => `${p.pair}: ${p.problem}`).join('; ')}`);
  return bundle;
}

async function bundleFor(io: CommandIO, flags: Flags, spec: TalosConfigSpec, plan: UsablePlan): Promise<SecretsBundle | undefined> {
  if (plan.kind !== 'generate') return undefined;
  const path = flags.string('secrets');
  if (path !== undefined) return bundleFromFile(io, path);
  io.stderr('talos-capi: no --secrets given: rendering with a throw-away secrets bundle (valid config, but its keys and tokens are not the cluster\'s)\n');
  return generateSecretsBundle({ contract: contractOf(spec) });
}

/** The Cluster in --cluster; among several, the one the Machine (or the config's label) names. */
function clusterOf(io: CommandIO, file: string, clusterName: string | undefined): Cluster {
  const objects = readManifests(io, file, 'Cluster manifest');
  const several = objects.filter((o) => o.kind === 'Cluster').length > 1;
  const cluster = pickCluster(objects, file, several ? clusterName : undefined);
  if (!controlPlaneEndpointUrl(cluster)) {
    throw new UsageError(`Cluster ${cluster.metadata.name} has no spec.controlPlaneEndpoint (host and port): the operator waits until it is set; set it in ${file}`);
  }
  return cluster;
}

/** What the operator would reconcile: the config's spec, the Machine it bootstraps, the Cluster. */
function inputsOf(io: CommandIO, flags: Flags): { spec: TalosConfigSpec; owner: ConfigOwner; cluster: Cluster } {
  const file = flags.required('filename');
  const config = pickConfig(readManifests(io, file, 'manifest'), file, flags.string('name'));
  const machineFile = flags.string('machine');
  const givenOwner = machineFile === undefined ? undefined : pickOwner(readManifests(io, machineFile, 'Machine manifest'), machineFile, config.metadata.name);
  const cluster = clusterOf(io, flags.required('cluster'), givenOwner?.spec.clusterName ?? config.metadata.labels?.[CLUSTER_NAME_LABEL]);
  if (givenOwner && givenOwner.spec.clusterName !== cluster.metadata.name) {
    throw new UsageError(`${givenOwner.kind} ${givenOwner.metadata.name} belongs to cluster ${givenOwner.spec.clusterName}, not to ${cluster.metadata.name}`);
  }
  const source = renderSource(config, file, { machineName: flags.string('hostname'), first: flags.bool('first'), cluster });
  const owner = givenOwner ?? source.machine ?? stubMachine(config.metadata.name ?? 'machine', cluster);
  return {
    spec: withRole(source.spec, flags.string('role')),
    owner: withOverrides(owner, { name: flags.string('hostname'), kubernetesVersion: flags.string('kubernetes-version') }),
    cluster,
  };
}

export const render: FlagCommand = {
  path: ['render'],
  summary: 'print the machine config the operator would write for a TalosConfig or TalosControlPlane',
  flags: [
    { name: 'filename', short: 'f', value: 'FILE', description: 'TalosConfig (v1alpha3/v1beta1), TalosConfigTemplate or TalosControlPlane manifest', required: true },
    { name: 'cluster', value: 'FILE', description: 'the Cluster manifest (its controlPlaneEndpoint and clusterNetwork are used)', required: true },
    { ...secretsFlag(false), description: 'the cluster\'s secrets bundle (talos-capi/talosctl gen secrets, or the <cluster>-talos Secret\'s bundle); default: a throw-away one' },
    { name: 'machine', value: 'FILE', description: 'the Machine or MachinePool the config bootstraps (name, version, infrastructure kind)' },
    { name: 'name', value: 'NAME', description: 'which config in --filename, when it holds several' },
    { name: 'role', value: 'ROLE', description: `render as ${ROLES.join(' | ')} instead of the spec's generateType` },
    { name: 'first', description: 'a TalosControlPlane\'s first Machine: its init config when it has one' },
    { name: 'hostname', value: 'NAME', description: 'name of the Machine and its infrastructure machine (the hostname when spec.hostname.source asks for one)' },
    { name: 'kubernetes-version', value: 'VERSION', description: 'Kubernetes version of the Machine (default: the Machine\'s or TalosControlPlane\'s spec.version)' },
    outputFlag('write the config to FILE instead of stdout'),
    FORCE_FLAG,
  ],
  async run(flags, io) {
    const { spec, owner, cluster } = inputsOf(io, flags);
    try {
      const plan = checkedPlan(spec);
      const bundle = await bundleFor(io, flags, spec, plan);
      const { data, notes } = renderBootstrapData({ spec, owner, cluster, bundle });
      for (const note of notes) io.stderr(`talos-capi: warning: ${note}\n`);
      writeResult(io, flags, data);
    } catch (error) {
      // The message of the DataSecretAvailable=False condition the operator would set.
      if (error instanceof InvalidTalosConfig) throw new UsageError(`${Reasons.invalidConfig}: ${error.message}`);
      throw error;
    }
  },
};
