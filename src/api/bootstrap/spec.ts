// The TalosConfig spec: the same fields in v1alpha3 and v1beta1 (v1beta1 adds
// only schema validation), so both versions share this one shape.

/** One RFC 6902 operation applied to the generated machine config. `value` is free-form JSON. */
export interface ConfigPatch {
  op: string;
  path: string;
  value?: unknown;
}

export interface HostnameSpec {
  /** `MachineName`, `InfrastructureName`, or empty (see HOSTNAME_SOURCES). */
  source?: string;
}

/**
 * How the cluster's `<cluster>-talosconfig` is written. Not in upstream CABPT (its #217, #161):
 * the endpoints default to the control-plane Machines' addresses, which is wrong behind a load
 * balancer or a VIP, so a control-plane config may name them.
 */
export interface TalosconfigSpec {
  /** Host names or IP addresses (optionally `:port`) written as the talosconfig's endpoints, in order. */
  endpoints?: string[];
}

export interface TalosConfigSpec {
  /** Talos version to generate for (`v1.11`, `1.11.3`); empty means the newest contract. */
  talosVersion?: string;
  /**
   * `init`, `controlplane`, `worker`, `join` or `none` (see GENERATE_TYPES). Typed as string
   * because objects stored before validation existed may hold anything.
   */
  generateType: string;
  /** The machine config itself, used when generateType is `none`. */
  data?: string;
  configPatches?: ConfigPatch[];
  /** Talos strategic merge patches, each a YAML string (may hold several documents). */
  strategicPatches?: string[];
  hostname?: HostnameSpec;
  talosconfig?: TalosconfigSpec;
}
