// From inputs to the machine configuration text a node boots with: generation, then the
// patches in CABPT's order, then (contract ≥ 1.12) the static hostname as a HostnameConfig
// patch applied last, so it wins over the generated `auto: stable`. A result that sets
// something both in v1alpha1 and in the document that took it over is refused.

import { applyPatches, type ApplyPatchesOptions, type ConfigPatches } from './patches/apply';
import { generateMachineConfig, hostnameDocument, type ConfigDocument, type GenerateInput } from './generate/machine-config';
import { checkV1Alpha1Conflicts } from './conflicts';
import { canonicalDocument } from './schema/documents';
import { emitDocument, emitDocuments } from './yaml/emitter';
import { parseYamlDocuments } from './yaml/parse';
import { isYamlMap, type YamlValue } from './yaml/values';

export interface RenderInput extends GenerateInput {
  patches?: ConfigPatches;
  patchOptions?: ApplyPatchesOptions;
}

/** The configuration as Talos writes it: documents separated by `---`, no comments. */
export function encodeConfig(documents: readonly ConfigDocument[]): string {
  return emitDocuments([...documents]);
}

export class ConfigLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigLoadError';
  }
}

/** Loads configuration text strictly (unknown keys or kinds are errors) into canonical documents. */
export function parseConfig(text: string): ConfigDocument[] {
  let values: YamlValue[];
  try {
    values = parseYamlDocuments(text);
  } catch (err) {
    throw new ConfigLoadError(`invalid YAML: ${(err as Error).message}`);
  }
  const documents = values.filter((value) => value !== null).map((value) => {
    if (!isYamlMap(value)) throw new ConfigLoadError('expected a YAML mapping document');
    return canonicalDocument(value);
  });
  if (documents.length === 0) throw new ConfigLoadError('config not found');
  return documents;
}

/** Generation plus patches, as documents. */
export function renderMachineConfigDocuments(input: RenderInput): ConfigDocument[] {
  const hostnameAsDocument = input.hostname !== undefined && input.contract.features.multidocNetworkConfigSupported;
  const generated = generateMachineConfig(hostnameAsDocument ? { ...input, hostname: undefined } : input);
  const patches = input.patches ?? {};
  const hasPatches = (patches.jsonPatches?.length ?? 0) > 0 || (patches.strategicPatches?.length ?? 0) > 0;
  // Generated documents are canonical already; only patches need the decode/merge/encode round.
  let documents = hasPatches ? applyPatches(generated, patches, input.patchOptions) : generated;
  if (hostnameAsDocument) {
    documents = applyPatches(documents, { strategicPatches: [emitDocument(hostnameDocument(input.hostname))] });
  }
  checkV1Alpha1Conflicts(documents);
  return documents;
}

/** Generation plus patches, encoded. */
export function renderMachineConfig(input: RenderInput): string {
  return encodeConfig(renderMachineConfigDocuments(input));
}
