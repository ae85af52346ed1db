// Objects → YAML text, with the comments a reader of the RBAC needs.
import { Document, isMap, isSeq } from 'yaml';
import { bootstrapClusterRules } from './rbac';
import { CLUSTER_ROLE_NAME, type ManifestObject } from './manifests';

const CONTROL_PLANE_RULES_COMMENT =
  ' Control-plane provider (TalosControlPlane): not used by the bootstrap controller yet;\n' +
  ' it creates, patches and deletes Machines and clones infrastructure machines from templates.';

function documentOf(object: ManifestObject): Document {
  const doc = new Document(object, { aliasDuplicateObjects: false });
  if (object.kind === 'ClusterRole' && object.metadata.name === CLUSTER_ROLE_NAME) {
    const rules = doc.get('rules', true);
    const first = isSeq(rules) ? rules.items[bootstrapClusterRules().length] : undefined;
    if (isMap(first)) first.commentBefore = CONTROL_PLANE_RULES_COMMENT;
  }
  return doc;
}

/** A multi-document YAML stream; `header` lines become leading comments. */
export function renderObjects(objects: readonly ManifestObject[], header: string): string {
  const comment = header.split('\n').map((line) => `# ${line}`.trimEnd()).join('\n');
  return `${comment}\n${objects.map((object) => `---\n${documentOf(object).toString({ lineWidth: 0 })}`).join('')}`;
}
