// talos-capi gen config: the machine configuration a TalosConfig would produce, on stdout.

import {
  MACHINE_TYPES,
  parseYamlValue,
  renderMachineConfig,
  type JsonPatchOperation,
  type MachineType,
} from '../../talos/config';
import { UsageError, type Flags } from '../args';
import { CliError, inlineOrFile, type CommandIO } from '../io';
import type { FlagCommand } from './command';
import { contractOf, FORCE_FLAG, outputFlag, readBundle, secretsFlag, writeResult } from './shared';

function machineType(value: string): MachineType {
  // Talos (and CABPT's generateType) also call a worker "join".
  const type = value === 'join' ? 'worker' : value;
  if (!(MACHINE_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`--type must be one of ${MACHINE_TYPES.join(', ')} (got "${value}")`);
  }
  return type as MachineType;
}

/** Each --config-patch holds one operation or a list of them (JSON or YAML), inline or @file. */
function configPatches(flags: Flags, io: CommandIO): JsonPatchOperation[] {
  return flags.list('config-patch').flatMap((value, i) => {
    let parsed: unknown;
    try {
      parsed = parseYamlValue(inlineOrFile(io, value, 'config patch'));
    } catch (err) {
      throw new CliError(`--config-patch #${i + 1} is not valid JSON/YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (Array.isArray(parsed)) return parsed as JsonPatchOperation[];
    if (typeof parsed === 'object' && parsed !== null) return [parsed as JsonPatchOperation];
    throw new CliError(`--config-patch #${i + 1} must be an RFC 6902 operation or a list of them`);
  });
}

export const genConfig: FlagCommand = {
  path: ['gen', 'config'],
  summary: 'render the machine configuration of one machine',
  flags: [
    { name: 'cluster-name', value: 'NAME', description: 'cluster name', required: true },
    { name: 'endpoint', value: 'URL', description: 'control-plane endpoint, e.g. https://10.0.0.1:6443', required: true },
    { name: 'kubernetes-version', value: 'VERSION', description: 'Kubernetes version, e.g. 1.32.3', required: true },
    { name: 'talos-version', value: 'vX.Y', description: 'Talos version the machine runs (version contract)', required: true },
    { name: 'type', value: 'TYPE', description: `machine type: ${MACHINE_TYPES.join(' | ')}`, required: true },
    secretsFlag(true),
    { name: 'dns-domain', value: 'DOMAIN', description: 'cluster DNS domain (default cluster.local)' },
    { name: 'pod-cidr', value: 'CIDR', description: 'pod network; twice for dual-stack', repeatable: true },
    { name: 'service-cidr', value: 'CIDR', description: 'service network; twice for dual-stack', repeatable: true },
    { name: 'config-patch', value: '@FILE|JSON', description: 'RFC 6902 operation(s), like configPatches', repeatable: true },
    { name: 'strategic-patch', value: '@FILE|YAML', description: 'Talos strategic merge patch, like strategicPatches', repeatable: true },
    { name: 'hostname', value: 'NAME', description: 'static hostname of the machine' },
    { name: 'strict-json-patch', description: 'RFC 6902 add fails on a missing parent, as in Talos' },
    outputFlag('write the config to FILE instead of stdout'),
    FORCE_FLAG,
  ],
  async run(flags, io) {
    const contract = contractOf(flags.required('talos-version'));
    if (!contract) throw new UsageError('--talos-version is required');
    const type = machineType(flags.required('type'));
    const bundle = readBundle(io, flags.required('secrets'));
    const config = renderMachineConfig({
      clusterName: flags.required('cluster-name'),
      endpoint: flags.required('endpoint'),
      kubernetesVersion: flags.required('kubernetes-version'),
      contract,
      bundle,
      machineType: type,
      ...(flags.string('dns-domain') !== undefined ? { dnsDomain: flags.string('dns-domain') } : {}),
      podCIDRs: flags.list('pod-cidr'),
      serviceCIDRs: flags.list('service-cidr'),
      ...(flags.string('hostname') !== undefined ? { hostname: flags.string('hostname') } : {}),
      patches: {
        jsonPatches: configPatches(flags, io),
        strategicPatches: flags.list('strategic-patch').map((value) => inlineOrFile(io, value, 'strategic patch')),
      },
      patchOptions: { createMissingParents: !flags.bool('strict-json-patch') },
    });
    writeResult(io, flags, config);
  },
};
