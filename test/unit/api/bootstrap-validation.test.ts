import { isTopologyDryRun, TEMPLATE_SPEC_IMMUTABLE_MESSAGE, templateUpdateProblem } from '../../../src/api/bootstrap/validation';

describe('templateUpdateProblem', () => {
  const template = (talosVersion: string, annotations?: Record<string, string>, labels?: Record<string, string>) => ({
    metadata: { name: 't', annotations },
    spec: { template: { metadata: { labels }, spec: { generateType: 'worker', talosVersion } } },
  });

  it('allows an update that leaves spec.template.spec alone (metadata, template labels)', () => {
    expect(templateUpdateProblem(template('v1.11'), template('v1.11', { a: 'b' }, { tier: 'x' }), false)).toBeUndefined();
  });

  it('refuses a change of spec.template.spec, naming the field', () => {
    expect(templateUpdateProblem(template('v1.11'), template('v1.12'), false)).toEqual({
      field: 'spec.template.spec',
      message: TEMPLATE_SPEC_IMMUTABLE_MESSAGE,
    });
  });

  it('allows the change in a Cluster API topology dry-run (annotation and dryRun both set)', () => {
    const dryRunObject = template('v1.12', { 'topology.cluster.x-k8s.io/dry-run': '' });
    expect(templateUpdateProblem(template('v1.11'), dryRunObject, true)).toBeUndefined();
  });

  it.each([
    ['a dry-run without the annotation', template('v1.12'), true],
    ['the annotation on a real request', template('v1.12', { 'topology.cluster.x-k8s.io/dry-run': '' }), false],
  ])('still refuses %s', (_name, newObject, dryRun) => {
    expect(templateUpdateProblem(template('v1.11'), newObject, dryRun)?.field).toBe('spec.template.spec');
  });

  it('treats malformed objects as having no spec instead of throwing', () => {
    expect(isTopologyDryRun('nonsense', true)).toBe(false);
    expect(templateUpdateProblem(null, { spec: 'x' }, false)).toBeUndefined();
  });
});
