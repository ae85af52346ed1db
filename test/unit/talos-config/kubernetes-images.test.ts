import { encodeConfig, parseConfig, type SecretsBundle } from '../../../src/talos/config';
import { KubernetesImagesError, retagImage, withKubernetesVersion } from '../../../src/talos/config/kubernetes-images';
import { at, byKind, generate, quickBundle } from './helpers';

let bundle: SecretsBundle;
beforeAll(async () => {
  bundle = await quickBundle();
});

describe('retagImage', () => {
  it('replaces the tag or digest, keeping a registry port', () => {
    expect(retagImage('registry.k8s.io/kube-apiserver:v1.33.1', 'v1.34.1')).toBe('registry.k8s.io/kube-apiserver:v1.34.1');
    expect(retagImage('localhost:5000/kube-scheduler@sha256:abc', 'v1.34.1')).toBe('localhost:5000/kube-scheduler:v1.34.1');
    expect(retagImage('localhost:5000/kubelet', 'v1.34.1')).toBe('localhost:5000/kubelet:v1.34.1');
  });
});

describe('withKubernetesVersion', () => {
  it('moves every image of a v1alpha1 control-plane config (Talos 1.13) to the version, kube-proxy included, and nothing else', () => {
    const text = encodeConfig(generate(bundle, 'v1.13'));
    const { config, images } = withKubernetesVersion(text, 'v1.34.1');
    expect(images).toEqual([
      { component: 'kubelet', image: 'ghcr.io/siderolabs/kubelet:v1.34.1' },
      { component: 'kube-apiserver', image: 'registry.k8s.io/kube-apiserver:v1.34.1' },
      { component: 'kube-controller-manager', image: 'registry.k8s.io/kube-controller-manager:v1.34.1' },
      { component: 'kube-scheduler', image: 'registry.k8s.io/kube-scheduler:v1.34.1' },
      { component: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.34.1' },
    ]);
    const [v1alpha1] = parseConfig(config);
    expect(['machine.kubelet.image', 'cluster.apiServer.image', 'cluster.controllerManager.image', 'cluster.scheduler.image', 'cluster.proxy.image']
      .map((path) => String(at(v1alpha1, path)).split(':').at(-1))).toEqual(Array(5).fill('v1.34.1'));
    // Only the tags changed: the same text once they are put back.
    expect(config.replaceAll('v1.34.1', 'v1.30.0')).toBe(text);
  });

  it('moves the images of the Kube* documents of Talos 1.14', () => {
    const docs = parseConfig(withKubernetesVersion(encodeConfig(generate(bundle, 'v1.14')), 'v1.34.1').config);
    for (const kind of ['KubeletConfig', 'KubeAPIServerConfig', 'KubeControllerManagerConfig', 'KubeSchedulerConfig', 'KubeProxyConfig']) {
      expect(String(at(byKind(docs, kind), 'image'))).toMatch(/:v1\.34\.1$/);
    }
  });

  it('a worker config has only its kubelet moved', () => {
    const { images } = withKubernetesVersion(encodeConfig(generate(bundle, 'v1.13', 'worker')), 'v1.34.1');
    expect(images.map((i) => i.component)).toEqual(['kubelet']);
  });

  it('keeps comments, quotes and Go octal integers as they were', () => {
    const text = [
      'version: v1alpha1 # kept', 'machine:', '  type: controlplane', '  kubelet:', '    image: ghcr.io/siderolabs/kubelet:v1.33.1 # the kubelet',
      '  files:', '    - permissions: 0644', 'cluster:', '  apiServer:', '    image: "registry.k8s.io/kube-apiserver:v1.33.1"',
      '  controllerManager:', "    image: 'registry.k8s.io/kube-controller-manager:v1.33.1'", '  scheduler:', '    image: registry.k8s.io/kube-scheduler:v1.33.1', '',
    ].join('\n');
    expect(withKubernetesVersion(text, 'v1.34.0').config).toBe(text.replaceAll('v1.33.1', 'v1.34.0'));
  });

  it('refuses a config that leaves a required image to Talos’s default, and a version that is none', () => {
    const text = 'version: v1alpha1\nmachine:\n  type: controlplane\n  kubelet:\n    image: ghcr.io/siderolabs/kubelet:v1.33.1\ncluster: {}\n';
    expect(() => withKubernetesVersion(text, 'v1.34.1')).toThrow(KubernetesImagesError);
    expect(() => withKubernetesVersion(text, 'v1.34.1')).toThrow('names no kube-apiserver image');
    expect(() => withKubernetesVersion(text, 'latest')).toThrow('is not a Kubernetes version');
  });
});
