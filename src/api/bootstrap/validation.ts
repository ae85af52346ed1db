// Validation decisions the TalosConfigTemplate webhook makes, as pure functions: what the CRD
// schema (generated from the same constants in ./group) and CEL cannot say.
import { TOPOLOGY_DRY_RUN_ANNOTATION } from '../capi/v1beta2/types';
import { deepEqual, isObject as isJsonObject } from '../../util/json';

export interface FieldProblem {
  field: string;
  message: string;
}

export const TEMPLATE_SPEC_IMMUTABLE_MESSAGE =
  'spec.template.spec is immutable: create a new TalosConfigTemplate and point the MachineDeployment, MachinePool or ClusterClass at it';

function templateSpecOf(template: unknown): unknown {
  const spec = isJsonObject(template) && isJsonObject(template.spec) ? template.spec : {};
  return isJsonObject(spec.template) ? spec.template.spec : undefined;
}

function annotationsOf(obj: unknown): Record<string, unknown> {
  const metadata = isJsonObject(obj) && isJsonObject(obj.metadata) ? obj.metadata : {};
  return isJsonObject(metadata.annotations) ? metadata.annotations : {};
}

/**
 * Cluster API's topology controller computes diffs with server-side-apply dry-runs that carry
 * its dry-run annotation; refusing those blocks ClusterClass rollouts (CABPT issue #257).
 */
export function isTopologyDryRun(newObject: unknown, dryRun: boolean): boolean {
  return dryRun && TOPOLOGY_DRY_RUN_ANNOTATION in annotationsOf(newObject);
}

/**
 * Why an update of a TalosConfigTemplate must be refused, or undefined when it may pass. The
 * template's machine config spec never changes (Machines made from it would silently differ);
 * its labels/annotations for new TalosConfigs may.
 */
export function templateUpdateProblem(oldObject: unknown, newObject: unknown, dryRun: boolean): FieldProblem | undefined {
  if (isTopologyDryRun(newObject, dryRun)) return undefined;
  if (deepEqual(templateSpecOf(oldObject), templateSpecOf(newObject))) return undefined;
  return { field: 'spec.template.spec', message: TEMPLATE_SPEC_IMMUTABLE_MESSAGE };
}
