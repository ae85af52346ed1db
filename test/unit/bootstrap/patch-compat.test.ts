// Misplaced settings are moved in the patched v1alpha1 document, whatever shape of patch put
// them there; configs without them render byte for byte as before.
import { parse as parseYaml } from 'yaml';
import type { Cluster, Machine } from '../../../src/api/capi/v1beta2/types';
import type { ConfigPatch, TalosConfigSpec } from '../../../src/api/bootstrap/spec';
import { moveMisplacedSettings } from '../../../src/bootstrap/patch-compat';
import { InvalidTalosConfig, renderGenerated } from '../../../src/bootstrap/render';
import {
  DEFAULT_KUBERNETES_VERSION,
  parseContract,
  renderMachineConfig,
  type JsonPatchOperation,
  type SecretsBundle,
} from '../../../src/talos/config';
import { quickBundle } from '../talos-config/helpers';

let bundle: SecretsBundle;
beforeAll(async () => {
  bundle = await quickBundle();
});

const cluster: Cluster = {
  apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster',
  metadata: { name: 'c1', namespace: 'ns' },
  spec: { controlPlaneEndpoint: { host: '10.0.0.10', port: 6443 } },
};
const owner: Machine = {
  apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine',
  metadata: { name: 'w-0', namespace: 'ns', labels: { 'cluster.x-k8s.io/cluster-name': 'c1' } },
  spec: { clusterName: 'c1', bootstrap: {}, infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'X', name: 'w-0' } },
};

function render(spec: Partial<TalosConfigSpec>, talosVersion = 'v1.11') {
  return renderGenerated({ spec: { generateType: 'worker', talosVersion, ...spec }, machineType: 'worker', owner, cluster, bundle });
}
/** The rendered v1alpha1 machine section. */
const machineOf = (data: string) => parseYaml(data.replace(/^#!talos\n/, '').split('\n---\n')[0]!).machine;

describe('kernel args', () => {
  const shapes: Array<[string, Partial<TalosConfigSpec>]> = [
    ['add /machine/kernel/args', { configPatches: [{ op: 'add', path: '/machine/kernel/args', value: ['console=ttyS0', 'net.ifnames=0'] }] }],
    ['add /machine/kernel/args/- twice', { configPatches: [
      { op: 'add', path: '/machine/kernel/args/-', value: 'console=ttyS0' },
      { op: 'add', path: '/machine/kernel/args/-', value: 'net.ifnames=0' },
    ] }],
    ['add /machine/kernel with {args}', { configPatches: [{ op: 'add', path: '/machine/kernel', value: { args: ['console=ttyS0', 'net.ifnames=0'] } }] }],
    ['add /machine/kernel with {args}, then add /machine/kernel/args/-', { configPatches: [{ op: 'add', path: '/machine/kernel', value: { args: ['console=ttyS0'] } }, { op: 'add', path: '/machine/kernel/args/-', value: 'net.ifnames=0' }] }],
    ['a strategic patch', { strategicPatches: ['machine:\n  kernel:\n    args: [console=ttyS0, net.ifnames=0]\n'] }],
    ['an RFC 6902 patch among the strategic ones', { strategicPatches: ['- op: add\n  path: /machine/kernel\n  value: {args: [console=ttyS0, net.ifnames=0]}\n'] }],
  ];

  test.each(shapes)('%s: moved to the installer’s extra kernel args, with a note', (_shape, spec) => {
    const rendered = render(spec);
    const machine = machineOf(rendered.data);
    expect(machine.install.extraKernelArgs).toEqual(['console=ttyS0', 'net.ifnames=0']);
    expect(machine.kernel).toBeUndefined();
    expect(rendered.notes).toEqual([expect.stringMatching(/^(configPatches|strategicPatches\[0\]): \/machine\/kernel\/args is not a Talos setting; moved to \/machine\/install\/extraKernelArgs/)]);
  });

  test('are appended to extra kernel args already set, and keep the rest of the kernel section', () => {
    const rendered = render({ configPatches: [
      { op: 'add', path: '/machine/install/extraKernelArgs', value: ['quiet'] },
      { op: 'add', path: '/machine/kernel', value: { modules: [{ name: 'br_netfilter' }], args: ['console=ttyS0'] } },
    ] });
    const machine = machineOf(rendered.data);
    expect(machine.install.extraKernelArgs).toEqual(['quiet', 'console=ttyS0']);
    expect(machine.kernel).toEqual({ modules: [{ name: 'br_netfilter' }] });
  });

  test('on contracts that turn grubUseUKICmdline on, it is turned off, with a note', () => {
    for (const spec of shapes.map(([, s]) => s)) {
      const rendered = render(spec, 'v1.12');
      expect(machineOf(rendered.data).install).toMatchObject({ extraKernelArgs: ['console=ttyS0', 'net.ifnames=0'], grubUseUKICmdline: false });
      expect(rendered.notes).toContainEqual(expect.stringContaining('/machine/install/grubUseUKICmdline set to false'));
    }
    expect(render({}, 'v1.12').notes).toEqual([]);
  });
});

describe('interface nameservers', () => {
  const interfaces = [
    { interface: 'eth0', dhcp: true, nameservers: ['8.8.8.8', '8.8.4.4'] },
    { interface: 'eth1', nameservers: ['8.8.8.8', '1.1.1.1'] },
  ];
  const shapes: Array<[string, Partial<TalosConfigSpec>]> = [
    ['add /machine/network/interfaces', { configPatches: [{ op: 'add', path: '/machine/network/interfaces', value: interfaces }] }],
    ['add /machine/network/interfaces/- each', { configPatches: interfaces.map((value) => ({ op: 'add', path: '/machine/network/interfaces/-', value })) }],
    ['add /machine/network', { configPatches: [{ op: 'add', path: '/machine/network', value: { interfaces } }] }],
    ['a strategic patch', { strategicPatches: [`machine:\n  network:\n    interfaces: ${JSON.stringify(interfaces)}\n`] }],
  ];

  test.each(shapes)('%s: hoisted to machine.network.nameservers, in order, once', (_shape, spec) => {
    const rendered = render(spec);
    const network = machineOf(rendered.data).network;
    expect(network.interfaces).toEqual([{ interface: 'eth0', dhcp: true }, { interface: 'eth1' }]);
    expect(network.nameservers).toEqual(['8.8.8.8', '8.8.4.4', '1.1.1.1']);
    expect(rendered.notes).toEqual([expect.stringContaining('interface nameservers moved to /machine/network/nameservers')]);
  });

  test('nameservers set in the same document win over the interfaces’ ones', () => {
    const rendered = render({ configPatches: [
      { op: 'add', path: '/machine/network/interfaces/-', value: { interface: 'eth0', nameservers: ['8.8.8.8'] } },
      { op: 'add', path: '/machine/network/nameservers', value: ['10.0.0.53'] },
    ] });
    const network = machineOf(rendered.data).network;
    expect(network).toMatchObject({ interfaces: [{ interface: 'eth0' }], nameservers: ['10.0.0.53'] });
    expect(rendered.notes).toEqual([expect.stringContaining('interface nameservers dropped: /machine/network/nameservers is set and wins')]);
  });
});

describe('partition format', () => {
  const disks = [{ device: '/dev/sdb', partitions: [{ mountpoint: '/var/lib/longhorn', size: '100GB', format: 'ext4' }] }];
  test.each<[string, Partial<TalosConfigSpec>]>([
    ['add /machine/disks', { configPatches: [{ op: 'add', path: '/machine/disks', value: disks }] }],
    ['add /machine/disks/0/partitions/0/format', { configPatches: [
      { op: 'add', path: '/machine/disks', value: [{ device: '/dev/sdb', partitions: [{ mountpoint: '/var/lib/longhorn', size: '100GB' }] }] },
      { op: 'add', path: '/machine/disks/0/partitions/0/format', value: 'ext4' },
    ] }],
    ['a strategic patch', { strategicPatches: [`machine:\n  disks: ${JSON.stringify(disks)}\n`] }],
  ])('%s: dropped, with a note', (_shape, spec) => {
    const rendered = render(spec);
    const [partition] = machineOf(rendered.data).disks[0].partitions;
    expect(partition).toMatchObject({ mountpoint: '/var/lib/longhorn' });
    expect(partition).not.toHaveProperty('format');
    expect(rendered.notes).toEqual([expect.stringContaining('partition format ext4 ignored')]);
  });
});

describe('configs without misplaced settings', () => {
  const valid: ConfigPatch[] = [
    { op: 'add', path: '/machine/install/extensions', value: [{ image: 'ghcr.io/siderolabs/qemu-guest-agent:9.0.0' }] },
    { op: 'add', path: '/machine/kernel', value: { modules: [{ name: 'br_netfilter' }] } },
    { op: 'add', path: '/machine/network/nameservers', value: ['10.0.0.53'] },
  ];

  test('the document is handed back as is', () => {
    const document = { version: 'v1alpha1', machine: { kernel: { modules: [] }, network: { interfaces: [{ interface: 'eth0' }] } } };
    const repaired = moveMisplacedSettings(document);
    expect(repaired.document).toBe(document);
    expect(repaired.notes).toEqual([]);
  });

  test('a document with misplaced settings is copied, not changed', () => {
    const document = { version: 'v1alpha1', machine: { kernel: { args: ['quiet'] } } };
    const before = structuredClone(document);
    expect(moveMisplacedSettings(document).document).toEqual({ version: 'v1alpha1', machine: { install: { extraKernelArgs: ['quiet'] } } });
    expect(document).toEqual(before);
  });

  test('render byte for byte as the patches alone give, with no notes', () => {
    const strategicPatches = ['machine:\n  install:\n    wipe: true\n'];
    const rendered = render({ configPatches: valid, strategicPatches });
    const alone = renderMachineConfig({
      clusterName: 'c1', endpoint: 'https://10.0.0.10:6443', kubernetesVersion: DEFAULT_KUBERNETES_VERSION,
      contract: parseContract('v1.11'), bundle, machineType: 'worker',
      patches: { jsonPatches: valid as JsonPatchOperation[], strategicPatches },
    });
    expect(rendered.data.endsWith(alone)).toBe(true);
    expect(rendered.data.length - alone.length).toBeLessThan(20); // only the #!talos line before it
    expect(rendered.notes).toEqual([]);
  });

  test('other unknown fields are still refused, naming the patch', () => {
    expect(() => render({ configPatches: [{ op: 'add', path: '/machine/kernel/argz', value: ['quiet'] }] })).toThrow(InvalidTalosConfig);
  });
});
