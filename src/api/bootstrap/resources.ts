// REST descriptions of our bootstrap kinds, per served version.
import type { ResourceKind } from '../../kube/client/resource';
import { BOOTSTRAP_GROUP, TALOS_CONFIG_KIND, TALOS_CONFIG_TEMPLATE_KIND } from './group';

function kinds(version: string) {
  return {
    talosConfig: { group: BOOTSTRAP_GROUP, version, kind: TALOS_CONFIG_KIND, plural: 'talosconfigs', namespaced: true },
    talosConfigTemplate: {
      group: BOOTSTRAP_GROUP,
      version,
      kind: TALOS_CONFIG_TEMPLATE_KIND,
      plural: 'talosconfigtemplates',
      namespaced: true,
    },
  } satisfies Record<string, ResourceKind>;
}

/** The storage version: what controllers read and write. */
export const V1BETA1 = kinds('v1beta1');
/** The served CABPT v0.6 version (seed manifests, CACPPT). */
export const V1ALPHA3 = kinds('v1alpha3');
