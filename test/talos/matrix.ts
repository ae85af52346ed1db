// The case list of the config matrix: every version contract × every machine
// type × a set of inputs, plus every contract × type × a corpus of patches.
// Pure data and pure functions — nothing here runs Talos or our engine — so the
// list can be read (and reviewed) on its own.
import type { JsonPatchOperation, MachineType, ValidationMode } from '../support/talos-oracle';

/** Version contracts from the oldest the project supports to the newest pkg/machinery defines. */
export const CONTRACTS = ['v1.3', 'v1.4', 'v1.5', 'v1.6', 'v1.7', 'v1.8', 'v1.9', 'v1.10', 'v1.11', 'v1.12', 'v1.13', 'v1.14'] as const;
export type Contract = (typeof CONTRACTS)[number];

export const MACHINE_TYPES: readonly MachineType[] = ['init', 'controlplane', 'worker'];

export function contractMinor(contract: Contract): number {
  return Number(contract.split('.')[1]);
}

const atLeast = (contract: Contract, minor: number) => contractMinor(contract) >= minor;
const isControlPlane = (type: MachineType) => type !== 'worker';

/**
 * Kubernetes versions per contract: the oldest and the newest minor Talos's
 * compatibility table allows for that Talos version (pkg/machinery/compatibility),
 * with a patch release on the newest.
 */
export const KUBERNETES_VERSIONS: Record<Contract, readonly [oldest: string, newest: string]> = {
  'v1.3': ['1.24.0', '1.26.9'],
  'v1.4': ['1.25.0', '1.27.4'],
  'v1.5': ['1.26.0', '1.28.3'],
  'v1.6': ['1.24.0', '1.29.2'],
  'v1.7': ['1.25.0', '1.30.5'],
  'v1.8': ['1.26.0', '1.31.1'],
  'v1.9': ['1.27.0', '1.32.3'],
  'v1.10': ['1.28.0', '1.33.2'],
  'v1.11': ['1.29.0', '1.34.1'],
  'v1.12': ['1.30.0', '1.35.4'],
  'v1.13': ['1.31.0', '1.36.3'],
  'v1.14': ['1.32.0', '1.37.0'],
};

export type HostnameSource = 'MachineName' | 'InfrastructureName';

/** What a TalosConfig + its Cluster/Machine contribute, besides contract and type. */
export interface InputVariant {
  name: string;
  endpoint: string;
  dnsDomain?: string;
  podCIDRs?: string[];
  serviceCIDRs?: string[];
  /** The hostname the bootstrap provider derived from the named source. */
  hostname?: { source: HostnameSource; value: string };
}

export const CLUSTER_NAME = 'matrix';

/** Talos's default CIDRs, IPv4 endpoint: the input the patch corpus is applied on. */
export const DEFAULT_INPUT: InputVariant = { name: 'ipv4', endpoint: 'https://10.5.0.10:6443' };

export const INPUT_VARIANTS: readonly InputVariant[] = [
  DEFAULT_INPUT,
  // Bracketed IPv6 host in the URL, IPv6 single-stack networks.
  {
    name: 'ipv6',
    endpoint: 'https://[fd00:10:5::10]:6443',
    podCIDRs: ['fd00:10:244::/56'],
    serviceCIDRs: ['fd00:10:96::/112'],
  },
  // DNS name endpoint on a non-default port, custom cluster DNS domain.
  { name: 'dns-name-custom-domain', endpoint: 'https://k8s.example.internal:443', dnsDomain: 'corp.example' },
  {
    name: 'dual-stack',
    endpoint: 'https://10.5.0.10:6443',
    podCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'],
    serviceCIDRs: ['10.96.0.0/12', 'fd00:10:96::/112'],
  },
  {
    name: 'hostname-from-machine-name',
    endpoint: 'https://10.5.0.10:6443',
    hostname: { source: 'MachineName', value: 'matrix-cp-7xk2q' },
  },
  {
    name: 'hostname-from-infrastructure-name',
    endpoint: 'https://10.5.0.10:6443',
    hostname: { source: 'InfrastructureName', value: 'proxmox-vm-101' },
  },
];

/** A throw-away etcd CA (ECDSA P-256, O=etcd) for the seed's "bring your own etcd CA" patch. */
const OWN_ETCD_CA = {
  crt:
    'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJnekNDQVNtZ0F3SUJBZ0lVZXlyM2NqaVljcXdFWGhWWTB2RUg4dS9Rb2s4d0NnWUlLb1pJemowRUF3SXcKRHpFTk1Bc0dBMVVFQ2d3RVpYUmpaREFlRncweU5qRXhNakl4TnpFNU1UbGFGdzB6TmpFeE1Ua3hOekU1TVRsYQpNQTh4RFRBTEJnTlZCQW9NQkdWMFkyUXdXVEFUQmdjcWhrak9QUUlCQmdncWhrak9QUU1CQndOQ0FBUzM0UUNUCjlmbnhLSERubDZJWlQzcUh4TUZ5M0RWSXUzK3hLd0swUzZtVEo5WWZCUms1R1lQWmptUEFUOTNPUHc4RTJ6R3YKUklIUnpvMkhnWXhNRGxCdG8yTXdZVEFkQmdOVkhRNEVGZ1FVUTVxaGJCYXh1b1IvcGZBK3RnTjF4bnRVQ21NdwpId1lEVlIwakJCZ3dGb0FVUTVxaGJCYXh1b1IvcGZBK3RnTjF4bnRVQ21Nd0R3WURWUjBUQVFIL0JBVXdBd0VCCi96QU9CZ05WSFE4QkFmOEVCQU1DQW9Rd0NnWUlLb1pJemowRUF3SURTQUF3UlFJaEFKd1BZUlZrV2N5MFozamQKd2lkaWdhVCtzckNSWlJsYXZGZERzMlhTbE9ZUkFpQU1zeFRzejQ4T1k3N1p6eUkxZmpnajhLdXowTk43SjcyMApoNTRiVTRCc1p3PT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=',
  key: 'LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUc4dERjU2p6RnlCdk00UHhkaWFHdnpyRVpkanF2NkZ5Y21ndHRYVXMwVG5vQW9HQ0NxR1NNNDkKQXdFSG9VUURRZ0FFdCtFQWsvWDU4U2h3NTVlaUdVOTZoOFRCY3R3MVNMdC9zU3NDdEV1cGt5ZldId1VaT1JtRAoyWTVqd0UvZHpqOFBCTnN4cjBTQjBjNk5oNEdNVEE1UWJRPT0KLS0tLS1FTkQgRUMgUFJJVkFURSBLRVktLS0tLQo=',
};

/** One entry of the patch corpus. */
export interface PatchEntry {
  name: string;
  /** Where it comes from, for the reader. */
  origin: string;
  configPatches?: JsonPatchOperation[];
  strategicPatches?: string[];
  /** The combinations the patch is meant for (default: all). */
  appliesTo?: (contract: Contract, type: MachineType) => boolean;
  /**
   * Whether Talos's library refuses the patch for that combination (default:
   * never). Both sides must then refuse it; such cases carry no config.
   */
  expectError?: (contract: Contract, type: MachineType) => boolean;
  /** The patched config names an install disk, so metal mode must validate. */
  setsInstallDisk?: boolean;
  /** The result is valid but Talos warns (e.g. deprecated fields): validate without --strict. */
  warns?: boolean;
}

const always = () => true;
/** Contracts whose generated v1alpha1 document still has a `machine.install` section. */
const hasMachineInstall = (c: Contract) => !atLeast(c, 14);
/** Contracts whose generated v1alpha1 document still has `machine.network: {}`. */
const hasMachineNetwork = (c: Contract) => !atLeast(c, 13);

export const PATCH_CORPUS: readonly PatchEntry[] = [
  // ---- RFC 6902, as in the seed documents ----
  {
    name: 'seed-install-and-dhcp',
    origin: 'seed 000: TalosConfig for Proxmox (generateType join)',
    configPatches: [
      { op: 'add', path: '/machine/install', value: { disk: '/dev/sda', image: 'ghcr.io/siderolabs/installer:v1.7.0', wipe: false } },
      { op: 'add', path: '/machine/network/interfaces', value: [{ interface: 'eth0', dhcp: true }] },
    ],
    // /machine/network is no longer generated from contract 1.13 on, so the add has no parent.
    expectError: (c) => !hasMachineNetwork(c),
    setsInstallDisk: true,
  },
  {
    name: 'seed-install-disk-replace',
    origin: 'seed 000: TalosConfig spec example (first operation)',
    configPatches: [{ op: 'replace', path: '/machine/install/disk', value: '/dev/sda' }],
    expectError: (c) => !hasMachineInstall(c),
    setsInstallDisk: true,
  },
  {
    name: 'seed-install-extensions',
    origin: 'seed 000: Proxmox extensions',
    configPatches: [
      { op: 'add', path: '/machine/install/extensions', value: [{ image: 'ghcr.io/siderolabs/qemu-guest-agent:9.0.0' }, { image: 'ghcr.io/siderolabs/util-linux-tools:2.39.2' }] },
    ],
    expectError: (c) => !hasMachineInstall(c),
    warns: true, // .machine.install.extensions is deprecated
  },
  {
    name: 'seed-kernel-args',
    origin: 'seed 000: /machine/kernel/args (no such Talos field)',
    configPatches: [{ op: 'add', path: '/machine/kernel/args', value: ['net.ifnames=0', 'console=tty0', 'console=ttyS0'] }],
    expectError: always, // no /machine/kernel to add to; `kernel.args` is not a Talos field either
  },
  {
    name: 'seed-talosconfig-spec-example',
    origin: 'seed 000: TalosConfig spec example (all three operations)',
    configPatches: [
      { op: 'replace', path: '/machine/install/disk', value: '/dev/sda' },
      { op: 'add', path: '/machine/install/extensions', value: [{ image: 'ghcr.io/siderolabs/qemu-guest-agent:9.0.0' }] },
      { op: 'add', path: '/machine/kernel/args', value: ['net.ifnames=0', 'console=tty0', 'console=ttyS0'] },
    ],
    expectError: always,
  },
  {
    name: 'seed-static-network-with-vip',
    origin: 'seed 000: static network with VIP for control-plane HA',
    configPatches: [
      {
        op: 'add',
        path: '/machine/network',
        value: {
          interfaces: [
            {
              interface: 'eth0',
              addresses: ['192.168.1.100/24'],
              routes: [{ network: '0.0.0.0/0', gateway: '192.168.1.1' }],
              vip: { ip: '192.168.1.99' },
            },
          ],
        },
      },
    ],
    appliesTo: (_c, t) => isControlPlane(t), // Talos rejects a VIP on workers
  },
  {
    name: 'seed-static-network-interface-nameservers',
    origin: 'seed 000: static network with nameservers inside the interface (no such Talos field)',
    configPatches: [
      {
        op: 'add',
        path: '/machine/network/interfaces',
        value: [{ interface: 'eth0', addresses: ['192.168.1.100/24'], routes: [{ network: '0.0.0.0/0', gateway: '192.168.1.1' }], nameservers: ['8.8.8.8', '8.8.4.4'] }],
      },
    ],
    expectError: always,
  },
  {
    name: 'seed-user-disk',
    origin: 'seed 000: Longhorn disk, without the unknown `format` key',
    configPatches: [{ op: 'add', path: '/machine/disks', value: [{ device: '/dev/sdb', partitions: [{ mountpoint: '/var/lib/longhorn', size: '100GB' }] }] }],
  },
  {
    name: 'seed-user-disk-with-format',
    origin: 'seed 000: Longhorn disk as written (partition `format` is no Talos field)',
    configPatches: [
      { op: 'add', path: '/machine/disks', value: [{ device: '/dev/sdb', partitions: [{ mountpoint: '/var/lib/longhorn', size: '100GB', format: 'ext4' }] }] },
    ],
    expectError: always,
  },
  {
    name: 'seed-own-etcd-ca',
    origin: 'seed 000: TalosControlPlane init/controlplane /cluster/etcd/ca',
    configPatches: [{ op: 'add', path: '/cluster/etcd/ca', value: OWN_ETCD_CA }],
    appliesTo: (_c, t) => isControlPlane(t), // etcd config is only allowed on control-plane machines
  },
  {
    name: 'seed-etcd-ca-placeholder',
    origin: 'seed 000: /cluster/etcd with the truncated placeholder value "LS0tLS1CRUdJTi0tLS0t..."',
    configPatches: [{ op: 'add', path: '/cluster/etcd', value: { ca: { crt: 'LS0tLS1CRUdJTi0tLS0t...', key: 'LS0tLS1CRUdJTi0tLS0t...' } } }],
    appliesTo: (_c, t) => isControlPlane(t),
    expectError: always, // not base64
  },
  {
    name: 'seed-controller-manager-extra-args',
    origin: 'seed 000: TalosControlPlane controlplane extraArgs',
    configPatches: [{ op: 'add', path: '/cluster/controllerManager/extraArgs', value: { 'bind-address': '0.0.0.0' } }],
    appliesTo: (_c, t) => isControlPlane(t),
    // From 1.14 the controller manager lives in its own document.
    expectError: (c) => atLeast(c, 14),
  },
  {
    name: 'rfc6902-remove-and-test',
    origin: 'RFC 6902 test/remove/copy on generated fields',
    configPatches: [
      { op: 'test', path: '/machine/certSANs', value: [] },
      { op: 'add', path: '/machine/certSANs/-', value: '10.5.0.100' },
      { op: 'copy', from: '/machine/certSANs/0', path: '/machine/certSANs/-' },
      { op: 'remove', path: '/machine/certSANs/1' },
    ],
  },

  // ---- Talos strategic merge patches ----
  {
    name: 'strategic-time-servers',
    origin: 'CABPT integration test StrategicMergePatch',
    strategicPatches: ['machine:\n  time:\n    servers:\n      - time.cloudflare.com\n'],
  },
  {
    name: 'strategic-delete-pod-security',
    origin: 'CABPT integration test StrategicMergePatchDelete ($patch: delete in a list)',
    strategicPatches: ['cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        $patch: delete\n'],
    appliesTo: (_c, t) => isControlPlane(t),
    expectError: (c) => atLeast(c, 14), // admission control moved to KubeAdmissionControlConfig
  },
  {
    name: 'strategic-delete-pod-security-document',
    origin: '$patch: delete of a whole document (a no-op where the document does not exist)',
    strategicPatches: ['apiVersion: v1alpha1\nkind: KubeAdmissionControlConfig\nname: PodSecurity\n$patch: delete\n'],
  },
  {
    name: 'strategic-delete-map-key',
    origin: '$patch: delete as a map value',
    strategicPatches: ['machine:\n  features:\n    diskQuotaSupport:\n      $patch: delete\n'],
  },
  {
    name: 'strategic-static-hostname-document',
    origin: 'CABPT integration test: HostnameConfig patch',
    strategicPatches: ['apiVersion: v1alpha1\nkind: HostnameConfig\nauto: "off"\nhostname: foo.bar\n'],
    appliesTo: (c) => atLeast(c, 12), // before 1.12 it conflicts with features.stableHostname
  },
  {
    name: 'strategic-delete-hostname-document',
    origin: '$patch: delete of the generated HostnameConfig',
    strategicPatches: ['apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n'],
  },
  {
    name: 'strategic-multi-document',
    origin: 'one patch with a v1alpha1 part and a new document',
    strategicPatches: [
      'machine:\n  sysctls:\n    vm.max_map_count: "262144"\n---\napiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: docker.io\nendpoints:\n  - url: https://mirror.gcr.io\n',
    ],
  },
  {
    name: 'strategic-legacy-registry-mirror',
    origin: 'machine.registries as older docs show it',
    strategicPatches: ['machine:\n  registries:\n    mirrors:\n      docker.io:\n        endpoints:\n          - https://mirror.gcr.io\n'],
  },
  {
    name: 'strategic-interfaces-merge-by-name',
    origin: 'two patches on the same interface: merged by `interface`, new ones appended',
    strategicPatches: [
      'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true\n',
      'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        mtu: 9000\n      - interface: eth1\n        ignore: true\n',
    ],
  },
  {
    name: 'strategic-pod-subnets-replace',
    origin: 'podSubnets carry merge:"replace" (not append)',
    strategicPatches: ['cluster:\n  network:\n    podSubnets:\n      - 10.200.0.0/16\n'],
    appliesTo: (c) => !atLeast(c, 14),
  },
  {
    name: 'strategic-kube-network-document',
    origin: 'the 1.14 form of the same change',
    strategicPatches: ['apiVersion: v1alpha1\nkind: KubeNetworkConfig\npodSubnets:\n  - 10.200.0.0/16\n'],
    appliesTo: (c) => atLeast(c, 14),
  },
  {
    name: 'strategic-cert-sans-append',
    origin: 'lists append: machine.certSANs',
    strategicPatches: ['machine:\n  certSANs:\n    - lb.example.com\n'],
  },
  {
    name: 'strategic-kubelet-extra-args',
    origin: 'seed 001: kubelet rotate-server-certificates',
    strategicPatches: ['machine:\n  kubelet:\n    extraArgs:\n      rotate-server-certificates: "true"\n'],
    appliesTo: (c) => !atLeast(c, 14),
  },
  {
    name: 'strategic-kubelet-document-extra-args',
    origin: 'seed 001 kubelet args, 1.14 form',
    strategicPatches: ['apiVersion: v1alpha1\nkind: KubeletConfig\nextraArgs:\n  rotate-server-certificates: "true"\n'],
    appliesTo: (c) => atLeast(c, 14),
  },
  {
    name: 'strategic-logging-destination',
    origin: 'seed 001: central logging',
    strategicPatches: ['machine:\n  logging:\n    destinations:\n      - endpoint: tcp://log-server:514\n        format: json_lines\n'],
  },
  {
    name: 'strategic-kubespan-document',
    origin: 'seed 001: KubeSpan',
    strategicPatches: ['apiVersion: v1alpha1\nkind: KubeSpanConfig\nenabled: true\n'],
  },
  {
    name: 'rfc6902-then-strategic',
    origin: 'both kinds on one TalosConfig: RFC 6902 first, strategic after',
    configPatches: [{ op: 'add', path: '/machine/disks', value: [{ device: '/dev/sdb', partitions: [{ mountpoint: '/var/mnt/data' }] }] }],
    strategicPatches: ['machine:\n  disks:\n    - device: /dev/sdc\n      partitions:\n        - mountpoint: /var/mnt/extra\n'],
  },
];

/** One matrix case: everything needed to render a config on both sides. */
export interface ConfigCase {
  /** contract/type/input-or-patch/k8s — unique. */
  name: string;
  contract: Contract;
  machineType: MachineType;
  clusterName: string;
  kubernetesVersion: string;
  input: InputVariant;
  configPatches: JsonPatchOperation[];
  strategicPatches: string[];
  expect: 'config' | 'error';
  /** Modes our (and Talos's) config must validate in; strict unless the patch warns. */
  validation: { modes: ValidationMode[]; strict: boolean };
}

/** Modes a generated config is expected to pass, by what the contract generates. */
export function validationModes(contract: Contract, setsInstallDisk: boolean): ValidationMode[] {
  const modes: ValidationMode[] = ['cloud'];
  // Container mode needs hostDNS with forwardKubeDNSToHost, generated from contract 1.8.
  if (atLeast(contract, 8)) modes.push('container');
  // Metal mode needs an install disk up to 1.13; from 1.14 `.machine.install` is optional.
  if (setsInstallDisk || atLeast(contract, 14)) modes.push('metal');
  return modes;
}

export function buildMatrix(): ConfigCase[] {
  const cases: ConfigCase[] = [];
  for (const contract of CONTRACTS) {
    for (const machineType of MACHINE_TYPES) {
      for (const input of INPUT_VARIANTS) {
        for (const kubernetesVersion of KUBERNETES_VERSIONS[contract]) {
          cases.push({
            name: `${contract}/${machineType}/${input.name}/k8s-${kubernetesVersion}`,
            contract,
            machineType,
            clusterName: CLUSTER_NAME,
            kubernetesVersion,
            input,
            configPatches: [],
            strategicPatches: [],
            expect: 'config',
            validation: { modes: validationModes(contract, false), strict: true },
          });
        }
      }
      const newestKubernetes = KUBERNETES_VERSIONS[contract][1];
      for (const patch of PATCH_CORPUS) {
        if (patch.appliesTo && !patch.appliesTo(contract, machineType)) continue;
        cases.push({
          name: `${contract}/${machineType}/patch:${patch.name}`,
          contract,
          machineType,
          clusterName: CLUSTER_NAME,
          kubernetesVersion: newestKubernetes,
          input: DEFAULT_INPUT,
          configPatches: patch.configPatches ?? [],
          strategicPatches: patch.strategicPatches ?? [],
          expect: patch.expectError?.(contract, machineType) ? 'error' : 'config',
          validation: { modes: validationModes(contract, patch.setsInstallDisk ?? false), strict: !patch.warns },
        });
      }
    }
  }
  return cases;
}
