import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOOTSTRAP_CONTRACT_LABELS, talosConfigCrd, talosConfigTemplateCrd } from '../../../src/api/bootstrap/crds';
import type { CrdVersion, JSONSchemaProps } from '../../../src/api/crd';
import { crdFileName, projectCrds, renderCrd } from '../../../src/api/generate-crds';

function specOf(version: CrdVersion | undefined): JSONSchemaProps {
  return version!.schema.openAPIV3Schema.properties!.spec!;
}

describe('bootstrap CRDs', () => {
  it('match the committed crds/ files (run `npm run gen:crds` after changing src/api)', () => {
    for (const crd of projectCrds()) {
      const committed = readFileSync(join(__dirname, '..', '..', '..', 'crds', crdFileName(crd)), 'utf8');
      expect(committed).toBe(renderCrd(crd));
    }
  });

  it('serve v1alpha3 and store v1beta1, converted by the webhook at /convert', () => {
    for (const crd of [talosConfigCrd(), talosConfigTemplateCrd()]) {
      expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([
        ['v1alpha3', true, false],
        ['v1beta1', true, true],
      ]);
      expect(crd.spec.conversion).toEqual({
        strategy: 'Webhook',
        webhook: {
          conversionReviewVersions: ['v1'],
          clientConfig: { service: { namespace: 'talos-capi-system', name: 'talos-capi-webhook-service', port: 443, path: '/convert' } },
        },
      });
      expect(crd.spec.names.categories).toEqual(['cluster-api']);
      expect(crd.spec.versions.every((v) => v.subresources?.status)).toBe(true);
    }
  });

  it('label the contract versions so Cluster API v1beta2 picks our v1beta1', () => {
    expect(BOOTSTRAP_CONTRACT_LABELS).toEqual({
      'cluster.x-k8s.io/v1alpha3': 'v1alpha3',
      'cluster.x-k8s.io/v1alpha4': 'v1alpha3',
      'cluster.x-k8s.io/v1beta1': 'v1alpha3',
      'cluster.x-k8s.io/v1beta2': 'v1beta1',
    });
    expect(talosConfigTemplateCrd().metadata.labels).toEqual(BOOTSTRAP_CONTRACT_LABELS);
  });

  it('restrict generateType and hostname.source in both versions and make TalosConfig.spec immutable with CEL', () => {
    for (const version of talosConfigCrd().spec.versions) {
      const spec = specOf(version);
      expect(spec.properties!.generateType!.enum).toEqual(['init', 'controlplane', 'worker', 'join', 'none']);
      expect(spec.properties!.hostname!.properties!.source!.enum).toEqual(['', 'MachineName', 'InfrastructureName']);
      expect(spec['x-kubernetes-validations']).toEqual([{ rule: 'self == oldSelf', message: expect.stringContaining('spec is immutable') }]);
    }
  });

  it('keep free-form data only in configPatches values', () => {
    const preserved: string[] = [];
    const walk = (schema: JSONSchemaProps, path: string): void => {
      if (schema['x-kubernetes-preserve-unknown-fields']) preserved.push(path);
      for (const [key, child] of Object.entries(schema.properties ?? {})) walk(child, `${path}.${key}`);
      if (schema.items) walk(schema.items, `${path}[]`);
    };
    for (const crd of [talosConfigCrd(), talosConfigTemplateCrd()]) for (const v of crd.spec.versions) walk(v.schema.openAPIV3Schema, `${crd.spec.names.kind}/${v.name}`);
    expect(preserved.every((path) => path.endsWith('configPatches[].value'))).toBe(true);
    expect(preserved).toHaveLength(4);
  });

  it('give the template v1beta1 metadata that v1alpha3 lacks', () => {
    const [alpha, beta] = talosConfigTemplateCrd().spec.versions;
    expect(Object.keys(specOf(alpha).properties!.template!.properties!)).toEqual(['spec']);
    expect(Object.keys(specOf(beta).properties!.template!.properties!)).toEqual(['metadata', 'spec']);
  });
});
