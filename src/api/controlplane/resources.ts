// REST descriptions of the control-plane kinds, per served version.
import type { ResourceKind } from '../../kube/client/resource';
import { CONTROLPLANE_GROUP, TALOS_CONTROL_PLANE_KIND, TALOS_CONTROL_PLANE_TEMPLATE_KIND } from './group';

const talosControlPlane = (version: string) =>
  ({ group: CONTROLPLANE_GROUP, version, kind: TALOS_CONTROL_PLANE_KIND, plural: 'taloscontrolplanes', namespaced: true }) satisfies ResourceKind;

/** The storage version: what the controller reads and writes. */
export const V1BETA1 = {
  talosControlPlane: talosControlPlane('v1beta1'),
  talosControlPlaneTemplate: {
    group: CONTROLPLANE_GROUP,
    version: 'v1beta1',
    kind: TALOS_CONTROL_PLANE_TEMPLATE_KIND,
    plural: 'taloscontrolplanetemplates',
    namespaced: true,
  },
} satisfies Record<string, ResourceKind>;

/** CACPPT's version (seed manifests, the v1beta1 contract). */
export const V1ALPHA3 = { talosControlPlane: talosControlPlane('v1alpha3') } satisfies Record<string, ResourceKind>;
