import { parseApiVersion, preferredVersion, resourceFor } from '../../../../src/kube/client/rest-mapper';

describe('REST mapping decisions', () => {
  it('splits apiVersion, the core group having none', () => {
    expect(parseApiVersion('infrastructure.cluster.x-k8s.io/v1beta2')).toEqual({ group: 'infrastructure.cluster.x-k8s.io', version: 'v1beta2' });
    expect(parseApiVersion('v1')).toEqual({ group: '', version: 'v1' });
  });

  it('maps a kind to its top-level resource, never to a subresource of the same kind', () => {
    const list = {
      groupVersion: 'infra.example/v1',
      resources: [
        { name: 'metalmachines/status', kind: 'MetalMachine', namespaced: true },
        { name: 'metalmachines', kind: 'MetalMachine', namespaced: true },
        { name: 'metalhosts', kind: 'MetalHost', namespaced: false },
      ],
    };
    expect(resourceFor(list, 'infra.example', 'v1', 'MetalMachine')).toEqual({
      group: 'infra.example', version: 'v1', kind: 'MetalMachine', plural: 'metalmachines', namespaced: true,
    });
    expect(resourceFor(list, 'infra.example', 'v1', 'MetalHost')?.namespaced).toBe(false);
    expect(resourceFor(list, 'infra.example', 'v1', 'Other')).toBeUndefined();
  });

  it('takes the preferred version of a group, else its first', () => {
    expect(preferredVersion({ name: 'g', preferredVersion: { version: 'v1beta2' }, versions: [{ version: 'v1beta1' }, { version: 'v1beta2' }] })).toBe('v1beta2');
    expect(preferredVersion({ name: 'g', versions: [{ version: 'v1' }] })).toBe('v1');
    expect(preferredVersion({ name: 'g', versions: [] })).toBeUndefined();
  });
});
