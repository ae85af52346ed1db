// Talos machine-configuration engine: a pure library (no Kubernetes) that produces what Talos's
// own Go machinery (pkg/machinery v1.14) produces — secrets bundles, machine configs for every
// version contract from v1.3 to v1.14, patches with Talos's merge semantics, talosconfig — in
// Talos's YAML layout, so files move between talosctl/CABPT and us in both directions.
//
// Public API (kept stable; the Talos oracle tests and the controllers build on it):
//
//   parseContract('v1.13' | 'v1.13.2' | '1.13') → TalosContract        feature gates by minor
//   generateSecretsBundle({ contract, now?, serviceAccountKey? }) → Promise<SecretsBundle>  RSA-4096 off the main thread
//   generateKey('ecdsa-p256' | 'ed25519' | 'rsa-4096') → Promise<KeyPair>  on the thread pool
//   loadSecretsBundle(yaml | legacy parts) → SecretsBundle              also CABPT's certs/kubeSecrets/trustdInfo
//   encodeSecretsBundle(bundle) → secrets.yaml text
//   validateSecretsBundle(bundle, contract) → Promise<string[]>        Talos's Bundle.Validate messages
//   generateMachineConfig(GenerateInput) → ConfigDocument[]            init | controlplane | worker
//   applyPatches(docs, { jsonPatches, strategicPatches }, options?) → ConfigDocument[]
//   renderMachineConfig(RenderInput) → string                           generate + patches + hostname, encoded
//   renderMachineConfigDocuments(RenderInput) → ConfigDocument[]
//   encodeConfig(docs) → string / parseConfig(text) → ConfigDocument[]  Talos key order, `---` between docs
//   generateTalosconfig({ bundle, contextName, endpoints, nodes?, roles?, now? }) → Promise<string>
//   parseTalosconfig(text) → ParsedTalosconfig
//   endpointURL(host, port) → 'https://host:port' (IPv6 bracketed)
//   resolveHostname(source, { machineName, infrastructureName }) → hostname for GenerateInput
//
// Errors are typed (InputError, ContractError, ConfigPatchError, SecretsBundleError, …) and
// their messages are meant for users: one line, naming the offending input.

export {
  ContractError,
  CURRENT_CONTRACT,
  NEWEST_CONTRACT_MINOR,
  OLDEST_CONTRACT_MINOR,
  parseContract,
  supportedContracts,
  type ContractFeatures,
  type TalosContract,
} from './contract';
export {
  CA_VALIDITY_MS,
  generateSecretsBundle,
  type CertificateAndKey,
  type GenerateSecretsOptions,
  type SecretsBundle,
} from './secrets/bundle';
export { generateKey, type KeyAlgorithm, type KeyPair } from './secrets/keys';
export {
  encodeSecretsBundle,
  loadSecretsBundle,
  SecretsBundleError,
  validateSecretsBundle,
  type LegacySecretsParts,
} from './secrets/bundle-yaml';
export {
  generateMachineConfig,
  MACHINE_TYPES,
  type ConfigDocument,
  type GenerateInput,
  type MachineType,
} from './generate/machine-config';
export { HOSTNAME_SOURCES, resolveHostname, type HostnameNames, type HostnameSource } from './generate/hostname';
export { DEFAULT_DNS_DOMAIN, DEFAULT_KUBERNETES_VERSION, DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR } from './generate/kubernetes-defaults';
export { endpointURL, InputError, parseEndpoint, parsePrefix } from './net';
export { applyPatches, ConfigPatchError, type ApplyPatchesOptions, type ConfigPatches } from './patches/apply';
export { JsonPatchError, type JsonPatchOperation } from './patches/json6902';
export { PatchLoadError } from './patches/strategic';
export {
  ConfigLoadError,
  encodeConfig,
  parseConfig,
  renderMachineConfig,
  renderMachineConfigDocuments,
  type RenderInput,
} from './render';
export { checkV1Alpha1Conflicts, ConflictError } from './conflicts';
export { DocumentError } from './schema/documents';
export { ConfigShapeError } from './schema/model';
export { MACHINERY_VERSION } from './schema/talos-types.generated';
export {
  CLIENT_CERTIFICATE_VALIDITY_MS,
  generateTalosconfig,
  parseTalosconfig,
  TALOS_ROLES,
  TalosconfigError,
  type ParsedTalosconfig,
  type TalosconfigContext,
  type TalosconfigOptions,
  type TalosRole,
} from './talosconfig';
export { parseYamlDocuments, parseYamlValue, YamlSyntaxError } from './yaml/parse';
export type { YamlMap, YamlValue } from './yaml/values';
