// The API requests the operator's code makes, read from src/ as text: client calls, raw requests,
// informers (list+watch) and patch helpers. It recognises the call shapes src/ uses; a call with a
// kind expression it cannot resolve is reported, so new code cannot slip past the RBAC test.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { V1ALPHA3, V1BETA1 } from '../../../src/api/bootstrap/resources';
import { ClusterKind, MachineKind, MachinePoolKind } from '../../../src/api/capi/v1beta2/resources';
import { V1ALPHA3 as CONTROLPLANE_V1ALPHA3 } from '../../../src/api/controlplane/resources';
import { ConfigMapKind, CoreEventKind, EventsV1Kind, LeaseKind, SecretKind, type ResourceKind } from '../../../src/kube/client/resource';

const SRC_DIR = resolve(__dirname, '..', '..', '..', 'src');

const KINDS: Record<string, ResourceKind> = {
  SecretKind, ConfigMapKind, LeaseKind, EventsV1Kind, CoreEventKind, ClusterKind, MachineKind, MachinePoolKind,
  'V1BETA1.talosConfig': V1BETA1.talosConfig,
  'V1BETA1.talosConfigTemplate': V1BETA1.talosConfigTemplate,
  'V1ALPHA3.talosConfig': V1ALPHA3.talosConfig,
  'V1ALPHA3.talosConfigTemplate': V1ALPHA3.talosConfigTemplate,
  'BOOTSTRAP_V1ALPHA3.talosConfig': V1ALPHA3.talosConfig,
  'V1ALPHA3.talosControlPlane': CONTROLPLANE_V1ALPHA3.talosControlPlane,
};

/** Objects of kinds known only at run time go through the unstructured client: infrastructure kinds. */
const UNSTRUCTURED_GROUP = 'infrastructure.cluster.x-k8s.io';

/** Kind parameters inside the runtime's own plumbing; their callers are scanned instead. */
const isPlumbing = (expression: string) => /^(this\.|source\.)?kind$/.test(expression);

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

export interface ScanResult {
  permissions: Permission[];
  /** `file: expression` for kind arguments the scan could not resolve. */
  unresolved: string[];
}

export function scanCodePermissions(): ScanResult {
  const permissions: Permission[] = [];
  const unresolved: string[] = [];
  for (const file of sourceFiles(SRC_DIR)) {
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
    for (const m of text.matchAll(new RegExp(`\\brequest${TYPE_ARGS}\\(\\s*'(GET|POST|PUT|PATCH|DELETE)',\\s*resourcePath\\(\\s*([\\w.]+)([^)]*)\\)`, 'g'))) {
      const named = m[3]!.split(',').length > 2;
      grant(m[2]!, [m[1] === 'GET' ? (named ? 'get' : 'list') : HTTP_VERBS[m[1]!]!]);
    }
    for (const m of text.matchAll(new RegExp(`(?:\\.for|\\.owns|\\.watches|\\binformer)${TYPE_ARGS}\\(\\s*([\\w.]+)`, 'g'))) {
      grant(m[1]!, ['list', 'watch']);
    }
    for (const m of text.matchAll(/\bunstructured\.(get|list|create|patch|delete)\(/g)) {
      permissions.push({ group: UNSTRUCTURED_GROUP, resource: '*', verb: CLIENT_VERBS[m[1]!]! });
    }
    for (const m of text.matchAll(new RegExp(`new PatchHelper${TYPE_ARGS}\\([^,]+,\\s*([\\w.]+)`, 'g'))) {
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
