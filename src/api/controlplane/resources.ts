// REST description of the TalosControlPlane kind (one version, served and stored).
import type { ResourceKind } from '../../kube/client/resource';
import { CONTROLPLANE_GROUP, TALOS_CONTROL_PLANE_KIND } from './group';
import { VERSION } from './v1alpha3/types';

export const V1ALPHA3 = {
  talosControlPlane: {
    group: CONTROLPLANE_GROUP,
    version: VERSION,
    kind: TALOS_CONTROL_PLANE_KIND,
    plural: 'taloscontrolplanes',
    namespaced: true,
  },
} satisfies Record<string, ResourceKind>;
