// The API requests the operator's code makes, read from src/ as text: client calls, raw requests,
// informers (list+watch) and patch helpers. It recognises the call shapes src/ uses; a call with a
// kind expression it cannot resolve is reported, so new code cannot slip past the RBAC test.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { ProviderName } from '../../../src/operator-flags';
import { V1ALPHA3, V1BETA1 } from '../../../src/api/bootstrap/resources';
import { ClusterKind, MachineKind, MachinePoolKind } from '../../../src/api/capi/v1beta2/resources';
import { V1BETA1 as CONTROLPLANE_V1BETA1 } from '../../../src/api/controlplane/resources';
import { ConfigMapKind, CoreEventKind, EventsV1Kind, LeaseKind, SecretKind, type ResourceKind } from '../../../src/kube/client/resource';
import { SubjectAccessReviewKind, TokenReviewKind } from '../../../src/kube/http/metrics-auth';

const SRC_DIR = resolve(__dirname, '..', '..', '..', 'src');

const KINDS: Record<string, ResourceKind> = {
  SecretKind, ConfigMapKind, LeaseKind, EventsV1Kind, CoreEventKind, ClusterKind, MachineKind, MachinePoolKind, TokenReviewKind, SubjectAccessReviewKind,
  'V1BETA1.talosConfig': V1BETA1.talosConfig,
  'V1BETA1.talosConfigTemplate': V1BETA1.talosConfigTemplate,
  'V1ALPHA3.talosConfig': V1ALPHA3.talosConfig,
  'V1ALPHA3.talosConfigTemplate': V1ALPHA3.talosConfigTemplate,
  'BOOTSTRAP_V1ALPHA3.talosConfig': V1ALPHA3.talosConfig,
  'BOOTSTRAP_V1BETA1.talosConfig': V1BETA1.talosConfig,
  'V1BETA1.talosControlPlane': CONTROLPLANE_V1BETA1.talosControlPlane,
};

/** Objects of kinds known only at run time go through the unstructured client: infrastructure kinds. */
const UNSTRUCTURED_GROUP = 'infrastructure.cluster.x-k8s.io';

/** Kind parameters inside the runtime's own plumbing; their callers are scanned instead. */
const isPlumbing = (expression: string) => /^(this\.|source\.|frame\.)?kind$/.test(expression);

export interface Permission {
  group: string;
  resource: string;
  verb: string;
}

export const permissionKey = (p: Permission) => `${p.group || 'core'}/${p.resource}:${p.verb}`;

const CLIENT_VERBS: Record<string, string> = { get: 'get', list: 'list', create: 'create', replace: 'update', patch: 'patch', delete: 'delete' };
const HTTP_VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
const TYPE_ARGS = '(?:<[^>()]*>)?';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Relative imports that load code (not `import type`), resolved to files. */
function importedFiles(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?\bfrom\s+'(\.[^']+)'/gm)].map((m) => m[1]!);
  return specifiers.map((specifier) => {
    const base = resolve(dirname(file), specifier);
    return existsSync(`${base}.ts`) ? `${base}.ts` : join(base, 'index.ts');
  });
}

/** Where the operator's process starts, and where it hands over to the providers `--controllers` chose. */
const OPERATOR_ENTRY = join(SRC_DIR, 'operator.ts');
const CONTROLLERS_MODULE = join(SRC_DIR, 'controllers.ts');
const PROVIDER_ENTRIES: Record<ProviderName, string> = {
  bootstrap: join(SRC_DIR, 'bootstrap', 'controller.ts'),
  controlplane: join(SRC_DIR, 'controlplane', 'controller.ts'),
};

/**
 * The files a process running these providers loads: the operator without its controllers, plus
 * each provider's controller setup, with everything they import. Code only the other provider
 * loads stays out, so each provider's RBAC can be checked alone.
 */
export function filesLoadedBy(providers: readonly ProviderName[]): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || file === CONTROLLERS_MODULE) return;
    seen.add(file);
    for (const imported of importedFiles(file, readFileSync(file, 'utf8'))) visit(imported);
  };
  for (const entry of [OPERATOR_ENTRY, ...providers.map((provider) => PROVIDER_ENTRIES[provider])]) visit(entry);
  return [...seen].sort();
}

export interface ScanResult {
  permissions: Permission[];
  /** `file: expression` for kind arguments the scan could not resolve. */
  unresolved: string[];
}

/** The requests made by `files` (default: every file of src/). */
export function scanCodePermissions(files: readonly string[] = sourceFiles(SRC_DIR)): ScanResult {
  const permissions: Permission[] = [];
  const unresolved: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const where = relative(SRC_DIR, file);
    const grant = (expression: string, verbs: string[], subresource?: string) => {
      const kind = KINDS[expression];
      if (!kind) {
        if (!isPlumbing(expression)) unresolved.push(`${where}: ${expression}`);
        return;
      }
      const resource = subresource ? `${kind.plural}/${subresource}` : kind.plural;
      for (const verb of verbs) permissions.push({ group: kind.group, resource, verb });
    };
    for (const m of text.matchAll(new RegExp(`\\bclient\\.(get|list|create|replace|patch|delete)${TYPE_ARGS}\\(\\s*([\\w.]+)`, 'g'))) {
      grant(m[2]!, [CLIENT_VERBS[m[1]!]!]);
    }
    // Requests through a `workload` client go to a workload cluster (its kubeconfig), not to the management one.
    for (const m of text.matchAll(new RegExp(`(?<!\\bworkload\\.)\\brequest${TYPE_ARGS}\\(\\s*'(GET|POST|PUT|PATCH|DELETE)',\\s*resourcePath\\(\\s*([\\w.]+)([^)]*)\\)`, 'g'))) {
      const named = m[3]!.split(',').length > 2;
      grant(m[2]!, [m[1] === 'GET' ? (named ? 'get' : 'list') : HTTP_VERBS[m[1]!]!]);
    }
    for (const m of text.matchAll(new RegExp(`(?:\\.for|\\.owns|\\.watches|\\binformer)${TYPE_ARGS}\\(\\s*([\\w.]+)`, 'g'))) {
      grant(m[1]!, ['list', 'watch']);
    }
    // Informers of kinds mapped at run time (infrastructure machines) list and watch.
    if (/\.informerFor\(/.test(text)) {
      for (const verb of ['list', 'watch']) permissions.push({ group: UNSTRUCTURED_GROUP, resource: '*', verb });
    }
    // getInGroup is a get of a kind named by group only.
    for (const m of text.matchAll(/\bunstructured\.(get|getInGroup|list|create|patch|delete)\(/g)) {
      permissions.push({ group: UNSTRUCTURED_GROUP, resource: '*', verb: CLIENT_VERBS[m[1] === 'getInGroup' ? 'get' : m[1]!]! });
    }
    const patchHelpers = [
      ...text.matchAll(new RegExp(`new PatchHelper${TYPE_ARGS}\\([^,]+,\\s*([\\w.]+)`, 'g')),
      // The reconcile frame makes the patch helper for the kind its caller names.
      ...text.matchAll(/\breconcileInFrame\s*\(\s*\{[^}]*?\bkind:\s*([\w.]+)/g),
    ];
    for (const m of patchHelpers) {
      // Merge patches of metadata/spec, a re-read on conflict, and the status subresource.
      grant(m[1]!, ['get', 'patch']);
      grant(m[1]!, ['patch'], 'status');
    }
    // Raw requests that do not go through resourcePath() would escape the scan; API discovery
    // ('/apis/<group>/<version>') is open to every authenticated user and needs no rule.
    for (const m of text.matchAll(new RegExp(`\\brequest${TYPE_ARGS}\\(\\s*'[A-Z]+',\\s*(?!\\s|resourcePath\\()([^,)]+)`, 'g'))) {
      const discovery = /^'\/apis?(\/[^/']+){0,2}'$/.test(m[1]!);
      if (!discovery && !where.endsWith('kube/client/client.ts')) unresolved.push(`${where}: request(${m[1]})`);
    }
  }
  return { permissions, unresolved };
}
