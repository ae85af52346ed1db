// The Kubernetes images a machine config runs (kubelet, kube-apiserver, kube-controller-manager,
// kube-scheduler, kube-proxy), read and moved to another Kubernetes version — what an in-place
// Kubernetes upgrade applies to a running node. Both layouts: the v1alpha1 fields up to Talos 1.13
// (`machine.kubelet.image`, `cluster.apiServer.image`…) and the Kube* documents of 1.14
// (`KubeletConfig`, `KubeAPIServerConfig`…), which replace them. Only the image values change in
// the text: everything else stays byte for byte as it was (comments, key order, Go's octal
// integers). An image the config does not name is Talos's default for its own version, which a
// new tag cannot move, so a required one missing is an error.
import type { Document, Scalar } from 'yaml';
import { kindOf, parseDocuments, replaceScalars, stringScalarAt } from './yaml/scalar-edit';

export type KubernetesComponent = 'kubelet' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kube-proxy';

interface ImageLocation {
  component: KubernetesComponent;
  /** The 1.14 document that holds it (its `image` field). */
  documentKind: string;
  /** Where the v1alpha1 document holds it. */
  legacyPath: readonly string[];
  /** Every config of this role must name it: `all`, `controlplane`, or `never` (patched only when named). */
  required: 'all' | 'controlplane' | 'never';
}

const LOCATIONS: readonly ImageLocation[] = [
  { component: 'kubelet', documentKind: 'KubeletConfig', legacyPath: ['machine', 'kubelet', 'image'], required: 'all' },
  { component: 'kube-apiserver', documentKind: 'KubeAPIServerConfig', legacyPath: ['cluster', 'apiServer', 'image'], required: 'controlplane' },
  { component: 'kube-controller-manager', documentKind: 'KubeControllerManagerConfig', legacyPath: ['cluster', 'controllerManager', 'image'], required: 'controlplane' },
  { component: 'kube-scheduler', documentKind: 'KubeSchedulerConfig', legacyPath: ['cluster', 'scheduler', 'image'], required: 'controlplane' },
  { component: 'kube-proxy', documentKind: 'KubeProxyConfig', legacyPath: ['cluster', 'proxy', 'image'], required: 'never' },
];

export interface KubernetesImage {
  component: KubernetesComponent;
  /** The image reference as the config names it. */
  image: string;
}

export class KubernetesImagesError extends Error {
  override readonly name = 'KubernetesImagesError';
}

interface FoundImage extends KubernetesImage {
  node: Scalar;
}

const parse = (configYaml: string) => parseDocuments(configYaml, (message) => new KubernetesImagesError(message));

function isControlPlane(documents: readonly Document[]): boolean {
  const legacy = documents.find((d) => kindOf(d) === undefined);
  const type = legacy?.getIn(['machine', 'type']);
  return type === 'controlplane' || type === 'init';
}

function findImages(documents: readonly Document[]): FoundImage[] {
  const controlPlane = isControlPlane(documents);
  const found: FoundImage[] = [];
  for (const location of LOCATIONS) {
    const own = documents.find((d) => kindOf(d) === location.documentKind);
    const node = own ? stringScalarAt(own, ['image']) : documents.map((d) => stringScalarAt(d, location.legacyPath)).find((n) => n !== undefined);
    if (node) found.push({ component: location.component, image: String(node.value), node });
    else if (location.required === 'all' || (location.required === 'controlplane' && controlPlane)) {
      throw new KubernetesImagesError(`the machine config names no ${location.component} image (${location.documentKind}.image or ${location.legacyPath.join('.')}): Talos would run its own default, which a new version cannot change`);
    }
  }
  return found;
}

/** `repository:tag` (or `@digest`) → `repository:version`; a registry port is kept. */
export function retagImage(image: string, version: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const repository = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  return `${repository}:${version}`;
}

/** The config with every Kubernetes image it names at `version` (e.g. v1.34.1), and those images. */
export function withKubernetesVersion(configYaml: string, version: string): { config: string; images: KubernetesImage[] } {
  if (!/^v\d+\.\d+\.\d+/.test(version)) throw new KubernetesImagesError(`${JSON.stringify(version)} is not a Kubernetes version (vX.Y.Z)`);
  const found = findImages(parse(configYaml));
  const config = replaceScalars(configYaml, found.map(({ node, image }) => ({ node, value: retagImage(image, version) })));
  return { config, images: found.map(({ component, image }) => ({ component, image: retagImage(image, version) })) };
}
