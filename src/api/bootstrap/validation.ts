// Validation decisions for TalosConfig and TalosConfigTemplate, as pure
// functions. The CRD schema enforces the same value sets (it is generated from
// the same constants); these functions serve the webhook (what CEL cannot say)
// and the reconciler (objects stored before validation existed).
import { TOPOLOGY_DRY_RUN_ANNOTATION } from '../capi/v1beta2/types';
import { deepEqual, isJsonObject } from '../conversion';
import { GENERATE_TYPES, HOSTNAME_SOURCES } from './group';

export interface FieldProblem {
  field: string;
  message: string;
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(', ');
}

/** Problems with the values of a TalosConfig spec; `at` is the spec's field path. */
export function talosConfigSpecProblems(spec: unknown, at = 'spec'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const fields = isJsonObject(spec) ? spec : {};
  const generateType = fields.generateType;
  if (typeof generateType !== 'string' || !(GENERATE_TYPES as readonly string[]).includes(generateType)) {
    problems.push({
      field: `${at}.generateType`,
      message: `unsupported value ${JSON.stringify(generateType ?? null)}: allowed values are ${quoteList(GENERATE_TYPES)}`,
    });
  }
  const hostname = isJsonObject(fields.hostname) ? fields.hostname : {};
  const source = hostname.source ?? '';
  if (typeof source !== 'string' || !(HOSTNAME_SOURCES as readonly string[]).includes(source)) {
    problems.push({
      field: `${at}.hostname.source`,
      message: `unsupported value ${JSON.stringify(source)}: allowed values are ${quoteList(HOSTNAME_SOURCES.filter(Boolean))} or empty`,
    });
  }
  return problems;
}

export function describeProblems(problems: readonly FieldProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
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
