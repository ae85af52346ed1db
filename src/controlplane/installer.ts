// The Talos installer image (so the Talos version) of a control-plane Machine, as the specs say
// it: a config patch setting /machine/install/image in `controlPlaneConfig` or in the Machine's
// TalosConfig. A TalosConfig spec cannot change after creation, so a node upgraded in place has
// the image it now runs recorded on its Machine, which wins over its TalosConfig's. Comparing two
// specs with that patch taken out tells a change of only the Talos version (made in place under
// the InPlace strategy) from any other config change (a replacement). Pure.
import type { Machine } from '../api/capi/v1beta2/types';
import { isObject } from '../util/json';

/** On a Machine whose node was upgraded in place: the installer image it runs since. */
export const INSTALLED_IMAGE_ANNOTATION = 'controlplane.cluster.x-k8s.io/talos-installer-image';

const INSTALL_IMAGE_PATH = '/machine/install/image';

const setsInstallImage = (patch: unknown): patch is { value: string } =>
  isObject(patch) && patch.path === INSTALL_IMAGE_PATH && (patch.op === 'add' || patch.op === 'replace') && typeof patch.value === 'string';

const patchesOf = (spec: unknown): unknown[] => (isObject(spec) && Array.isArray(spec.configPatches) ? spec.configPatches : []);

/** The installer image a TalosConfig spec's config patches set (the last one wins); undefined when none does. */
export function installerImageOfSpec(spec: unknown): string | undefined {
  return patchesOf(spec).filter(setsInstallImage).at(-1)?.value;
}

/** The spec without the config patches that set the installer image (none left: no list, as an empty one renders the same). */
export function withoutInstallerImage(spec: unknown): unknown {
  if (!isObject(spec)) return spec;
  const { configPatches: _patches, ...rest } = spec;
  const others = patchesOf(spec).filter((patch) => !setsInstallImage(patch));
  return others.length === 0 ? rest : { ...rest, configPatches: others };
}

/** The installer image the Machine's node runs: recorded by an in-place upgrade, else its TalosConfig's. */
export function installedImageOf(machine: Machine, configSpec: unknown): string | undefined {
  return machine.metadata.annotations?.[INSTALLED_IMAGE_ANNOTATION] ?? installerImageOfSpec(configSpec);
}
