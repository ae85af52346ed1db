// Clusters, certificates and talosconfigs for machine API client tests, made by
// our own config engine (src/talos/config): the secrets bundle's Ed25519 OS CA,
// machine configs that boot simulated nodes, and admin/reader talosconfigs —
// plus the odd ones only tests want (a foreign CA, an expired certificate).
import {
  generateSecretsBundle,
  generateTalosconfig,
  parseContract,
  renderMachineConfig,
  type MachineType,
  type SecretsBundle,
  type TalosRole,
} from '../../src/talos/config';
import {
  createCertificateAuthority,
  issueClientCertificate,
  type IssuedCertificate,
} from '../../src/talos/config/secrets/certificates';
import { stringify } from 'yaml';

const HOUR_MS = 3_600_000;
const INSTALL_DISK_PATCH = 'machine:\n  install:\n    disk: /dev/sda\n';

export interface ClusterFixture {
  name: string;
  bundle: SecretsBundle;
  /** The OS (Talos API) CA: certificate and Ed25519 key PEM ("ED25519 PRIVATE KEY" label, as Talos writes it). */
  osCa: IssuedCertificate;
  /** Bootstrap data for a node of this cluster. */
  machineConfig(machineType: MachineType, hostname: string): string;
  /** talosconfig YAML with a fresh client certificate for the roles (default os:admin). */
  talosconfig(endpoints: string[], roles?: TalosRole[]): Promise<string>;
}

export async function makeClusterFixture(name: string, talosVersion = 'v1.13'): Promise<ClusterFixture> {
  const contract = parseContract(talosVersion);
  const bundle = await generateSecretsBundle({ contract });
  const osCa = bundle.certs.os;
  if (!osCa) throw new Error('bundle without OS CA');
  return {
    name,
    bundle,
    osCa,
    machineConfig: (machineType, hostname) =>
      renderMachineConfig({
        clusterName: name,
        endpoint: 'https://127.0.0.1:6443',
        kubernetesVersion: '1.34.1',
        contract,
        bundle,
        machineType,
        hostname,
        // Metal mode wants an install disk, which generation leaves to the user (as CABPT users patch it in).
        patches: { strategicPatches: [INSTALL_DISK_PATCH] },
      }),
    talosconfig: (endpoints, roles) => generateTalosconfig({ bundle, contextName: name, endpoints, ...(roles ? { roles } : {}) }),
  };
}

/** A CA that looks like an OS CA but belongs to no cluster. */
export function makeForeignOsCa(): Promise<IssuedCertificate> {
  const now = new Date();
  return createCertificateAuthority({
    algorithm: 'ed25519',
    organization: 'talos',
    notBefore: now,
    notAfter: new Date(now.getTime() + 24 * HOUR_MS),
  });
}

/** A client certificate from `ca` with explicit validity (e.g. already expired). */
export function makeClientCertificate(
  ca: IssuedCertificate,
  options: { roles?: string[]; notBefore?: Date; notAfter?: Date } = {},
): Promise<IssuedCertificate> {
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  return issueClientCertificate({
    ca,
    organizations: options.roles ?? ['os:admin'],
    notBefore,
    notAfter: options.notAfter ?? new Date(notBefore.getTime() + 24 * HOUR_MS),
  });
}

/** talosconfig YAML from explicit parts (ca/crt/key base64 of PEM, as Talos writes them). */
export function talosconfigYaml(parts: { contextName: string; endpoints: string[]; caPem: string; certPem: string; keyPem: string }): string {
  const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
  return stringify({
    context: parts.contextName,
    contexts: {
      [parts.contextName]: { endpoints: parts.endpoints, ca: b64(parts.caPem), crt: b64(parts.certPem), key: b64(parts.keyPem) },
    },
  });
}
