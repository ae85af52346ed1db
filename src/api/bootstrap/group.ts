// The bootstrap API group and the values its specs accept, shared by both
// versions, the CRD schemas and the validation functions so they cannot drift.

export const BOOTSTRAP_GROUP = 'bootstrap.cluster.x-k8s.io';

export const TALOS_CONFIG_KIND = 'TalosConfig';
export const TALOS_CONFIG_TEMPLATE_KIND = 'TalosConfigTemplate';

/**
 * Machine config types. `join` is the old name of `worker` and `init` the deprecated first control
 * plane; both are accepted because manifests in the wild (and the seed documents) still use them.
 */
export const GENERATE_TYPES = ['init', 'controlplane', 'worker', 'join', 'none'] as const;

/** Where a Machine's hostname comes from; empty means Talos picks it. */
export const HOSTNAME_SOURCES = ['', 'MachineName', 'InfrastructureName'] as const;
