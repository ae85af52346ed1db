// Shared fixtures of the talos-config unit tests.

import {
  generateMachineConfig,
  generateSecretsBundle,
  parseContract,
  type ConfigDocument,
  type GenerateInput,
  type SecretsBundle,
  type YamlValue,
} from '../../../src/talos/config';

/** A bundle with an ECDSA service-account key (contract 1.6): quick to generate. */
export function quickBundle(): Promise<SecretsBundle> {
  return generateSecretsBundle({ contract: parseContract('v1.6'), now: new Date('2026-01-01T00:00:00Z') });
}

export function generateInput(
  bundle: SecretsBundle,
  version: string,
  machineType: GenerateInput['machineType'],
  extra: Partial<GenerateInput> = {},
): GenerateInput {
  return {
    clusterName: 'demo',
    endpoint: 'https://10.0.0.1:6443',
    kubernetesVersion: 'v1.30.0',
    contract: parseContract(version),
    bundle,
    machineType,
    ...extra,
  };
}

export function generate(bundle: SecretsBundle, version: string, machineType: GenerateInput['machineType'] = 'controlplane'): ConfigDocument[] {
  return generateMachineConfig(generateInput(bundle, version, machineType));
}

/** The value at a dotted path (`machine.install.disk`; `[0]` indexes lists), or undefined. */
export function at(value: YamlValue | undefined, path: string): YamlValue | undefined {
  let node = value;
  for (const part of path.split('.')) {
    const index = /^\[(\d+)\]$/.exec(part);
    if (index && Array.isArray(node)) node = node[Number(index[1])];
    else node = node !== null && typeof node === 'object' && !Array.isArray(node) ? node[part] : undefined;
  }
  return node;
}

export function byKind(docs: ConfigDocument[], kind: string): ConfigDocument | undefined {
  return docs.find((doc) => doc.kind === kind);
}

export const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
