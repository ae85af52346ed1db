// Objects → YAML text.
import { Document } from 'yaml';
import type { ManifestObject } from './manifests';

/** A multi-document YAML stream; `header` lines become leading comments. */
export function renderObjects(objects: readonly ManifestObject[], header: string): string {
  const comment = header.split('\n').map((line) => `# ${line}`.trimEnd()).join('\n');
  return `${comment}\n${objects.map((object) => `---\n${new Document(object, { aliasDuplicateObjects: false }).toString({ lineWidth: 0 })}`).join('')}`;
}
