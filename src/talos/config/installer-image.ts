// The Talos installer image a machine config names — what the node installs, so its Talos
// version — and the same config naming another one: what an in-place Talos upgrade writes back
// into a node's bootstrap data. Both layouts: `machine.install.image` of the v1alpha1 document
// (every contract; a config patch puts it there) and `installer.image` of the
// UnattendedInstallConfig document of 1.14. Only the image values change in the text. Pure.
import { kindOf, parseDocuments, replaceScalars, stringScalarAt } from './yaml/scalar-edit';

export class InstallerImageError extends Error {
  override readonly name = 'InstallerImageError';
}

const LEGACY_PATH = ['machine', 'install', 'image'] as const;
const UNATTENDED_KIND = 'UnattendedInstallConfig';
const UNATTENDED_PATH = ['installer', 'image'] as const;

function installerScalars(configYaml: string) {
  const documents = parseDocuments(configYaml, (message) => new InstallerImageError(message));
  return documents
    .map((d) => (kindOf(d) === undefined ? stringScalarAt(d, LEGACY_PATH) : kindOf(d) === UNATTENDED_KIND ? stringScalarAt(d, UNATTENDED_PATH) : undefined))
    .filter((node) => node !== undefined);
}

/** The installer image the config names (the v1alpha1 one first); undefined when it names none. */
export function installerImageOf(configYaml: string): string | undefined {
  const node = installerScalars(configYaml)[0];
  return node ? String(node.value) : undefined;
}

/** The config with every installer image it names set to `image`; undefined when it names none. */
export function withInstallerImage(configYaml: string, image: string): string | undefined {
  const found = installerScalars(configYaml);
  if (found.length === 0) return undefined;
  return replaceScalars(configYaml, found.map((node) => ({ node, value: image })));
}

/** The tag of an image reference (`ghcr.io/siderolabs/installer:v1.14.2` → `v1.14.2`); undefined without one. */
export function imageTagOf(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(colon + 1) : undefined;
}
