// The objects the world's bootstrap manifests put into a new workload cluster: Talos's kube-proxy
// DaemonSet at the image the bootstrapped node's config names, none when kube-proxy is disabled.
import { makeClusterFixture } from '../../support/talos-fixtures';
import { bootstrapManifestsOf } from '../../world/infra/bootstrap-manifests';
import { DEFAULT_KUBELET_VERSION, kubeProxyImageOf } from '../../world/infra/machine-config';

interface DaemonSetShape {
  metadata: { namespace?: string; name?: string };
  spec: { template: { spec: { containers: { name: string; image: string }[] } } };
}

const containersOf = (configYaml: string) =>
  bootstrapManifestsOf(configYaml).map(({ kind, object }) => {
    const daemonSet = object as unknown as DaemonSetShape;
    return `${kind.group}/${kind.kind} ${daemonSet.metadata.namespace}/${daemonSet.metadata.name}: ${daemonSet.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`).join(',')}`;
  });

describe('the kube-proxy DaemonSet of the bootstrap manifests', () => {
  test.each(['v1.13', 'v1.14'])('%s: kube-system/kube-proxy with the image the generated config names', async (talosVersion) => {
    const config = (await makeClusterFixture('proxy', talosVersion)).machineConfig('controlplane', 'cp');
    expect(containersOf(config)).toEqual(['apps/DaemonSet kube-system/kube-proxy: kube-proxy=registry.k8s.io/kube-proxy:v1.34.1']);
  });

  test('a patched image is taken as it is (v1alpha1 cluster.proxy.image, 1.14 KubeProxyConfig image)', () => {
    expect(kubeProxyImageOf('version: v1alpha1\ncluster:\n  proxy:\n    image: mirror.local:5000/k8s/kube-proxy:v1.33.4\n')).toBe('mirror.local:5000/k8s/kube-proxy:v1.33.4');
    expect(kubeProxyImageOf('version: v1alpha1\nmachine:\n  type: controlplane\n---\napiVersion: v1alpha1\nkind: KubeProxyConfig\nimage: mirror.local/kube-proxy:v1.35.0\nconfig: {}\n'))
      .toBe('mirror.local/kube-proxy:v1.35.0');
  });

  test('no DaemonSet when kube-proxy is disabled (cluster.proxy.disabled, KubeProxyConfig enabled: false)', () => {
    expect(containersOf('version: v1alpha1\ncluster:\n  proxy:\n    disabled: true\n    image: registry.k8s.io/kube-proxy:v1.34.1\n')).toEqual([]);
    expect(containersOf('version: v1alpha1\nmachine:\n  type: controlplane\n---\napiVersion: v1alpha1\nkind: KubeProxyConfig\nenabled: false\nconfig: {}\n')).toEqual([]);
  });

  test('a config naming no image gets the default repository at its kubelet version', () => {
    expect(kubeProxyImageOf('version: v1alpha1\nmachine:\n  kubelet:\n    image: ghcr.io/siderolabs/kubelet:v1.33.2\n')).toBe('registry.k8s.io/kube-proxy:v1.33.2');
    expect(kubeProxyImageOf('version: v1alpha1\nmachine:\n  type: controlplane\n')).toBe(`registry.k8s.io/kube-proxy:${DEFAULT_KUBELET_VERSION}`);
  });
});
