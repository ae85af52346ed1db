// The bootstrap data of one Machine: every check and rendering step between a TalosConfig spec
// (with its owner, Cluster and the cluster's secrets bundle) and the text of its
// `<owner>-bootstrap-data` Secret. No I/O: the reconciler writes what this returns, and
// `talos-capi render` prints it, so a preview is what the operator writes.
import type { Cluster } from '../api/capi/v1beta2/types';
import type { TalosConfigSpec } from '../api/bootstrap/spec';
import type { SecretsBundle } from '../talos/config';
import { MAX_SECRET_DATA_BYTES } from './bootstrap-data';
import { patchDepthProblem, type ConfigOwner, type GeneratePlan } from './decisions';
import { InvalidTalosConfig, renderGenerated, renderUserData, requirePlan } from './render';

export type UsablePlan = Exclude<GeneratePlan, { kind: 'invalid' }>;

/** The plan for a spec whose input can be rendered at all; InvalidTalosConfig otherwise. */
export function checkedPlan(spec: TalosConfigSpec): UsablePlan {
  const plan = requirePlan(spec);
  const tooDeep = patchDepthProblem(spec);
  if (tooDeep) throw new InvalidTalosConfig(tooDeep);
  return plan;
}

export interface BootstrapDataRequest {
  spec: TalosConfigSpec;
  owner: ConfigOwner;
  cluster: Cluster;
  /** The cluster's secrets bundle; generated configs need it, `none` does not. */
  bundle?: SecretsBundle;
}

export interface BootstrapData {
  /** The Secret's `value`. */
  data: string;
  /** Rewrites of known misplaced configPatches, to tell the user about. */
  notes: string[];
  /** The Kubernetes CA a `none` control-plane config carries (for `<cluster>-ca`). */
  kubernetesCA?: { crt: string; key: string };
}

export function renderBootstrapData({ spec, owner, cluster, bundle }: BootstrapDataRequest): BootstrapData {
  const plan = checkedPlan(spec);
  let result: BootstrapData;
  if (plan.kind === 'userData') {
    const user = renderUserData(spec, owner);
    result = { data: user.data, notes: [], kubernetesCA: user.kubernetesCA };
  } else {
    if (!bundle) throw new Error('a generated config needs the cluster secrets bundle');
    result = renderGenerated({ spec, machineType: plan.machineType, owner, cluster, bundle });
  }
  const size = Buffer.byteLength(result.data);
  if (size > MAX_SECRET_DATA_BYTES) {
    throw new InvalidTalosConfig(`the rendered machine config is ${size} bytes, more than the ${MAX_SECRET_DATA_BYTES} bytes a Secret can hold`);
  }
  return result;
}
