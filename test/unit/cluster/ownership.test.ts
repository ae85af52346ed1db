import { decideSecretWrite, describeSecretOwner, requireWritable, SecretOwnershipConflict } from '../../../src/cluster/ownership';
import { V1BETA1 } from '../../../src/api/bootstrap/resources';
import type { KubeObject, OwnerReference } from '../../../src/kube/meta/object';

const writer = { object: { metadata: { name: 'm', namespace: 'ns', uid: 'new' } }, kind: V1BETA1.talosConfig };
const talosConfigRef = (name: string, uid: string, controller = true): OwnerReference => ({
  apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfig', name, uid, controller,
});
const secret = (ownerReferences?: OwnerReference[]): KubeObject => ({ metadata: { name: 'm-bootstrap-data', namespace: 'ns', ownerReferences } });

test('a Secret the writer controls is updated', () => {
  expect(decideSecretWrite(secret([talosConfigRef('m', 'new')]), writer)).toEqual({ action: 'update' });
});

test('a Secret controlled by a gone object of the same kind and name is adopted (any version of the group)', () => {
  expect(decideSecretWrite(secret([talosConfigRef('m', 'old')]), writer)).toEqual({ action: 'adopt', previousOwner: 'old' });
  const olderVersion = { ...talosConfigRef('m', 'old'), apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3' };
  expect(decideSecretWrite(secret([olderVersion]), writer).action).toBe('adopt');
});

test.each<[string, OwnerReference[] | undefined, string]>([
  ['no owner', undefined, 'it has no owner'],
  ['another TalosConfig', [talosConfigRef('first', 'u1')], 'controlled by TalosConfig first (uid u1)'],
  ['another kind of the same name', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'm', uid: 'u2', controller: true }], 'controlled by ConfigMap m (uid u2)'],
  ['a non-controller owner', [talosConfigRef('m', 'old', false)], 'owned, without a controller, by TalosConfig m'],
])('%s: refused, saying who owns it', (_what, refs, owner) => {
  expect(decideSecretWrite(secret(refs), writer)).toEqual({ action: 'refuse', owner });
  expect(describeSecretOwner(secret(refs))).toBe(owner);
  expect(() => requireWritable(secret(refs), writer)).toThrow(SecretOwnershipConflict);
  expect(() => requireWritable(secret(refs), writer)).toThrow(`Secret ns/m-bootstrap-data already exists and is not ours to write: ${owner}`);
});
