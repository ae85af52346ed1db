import {
  applyPatches,
  parseConfig,
  parseContract,
  renderMachineConfigDocuments,
  type JsonPatchOperation,
  type SecretsBundle,
} from '../../../src/talos/config';
import { applyJsonPatch } from '../../../src/talos/config/patches/json6902';
import { mergeValue } from '../../../src/talos/config/schema/merge';
import { at, byKind, generate as generateWith, quickBundle } from './helpers';

let bundle: SecretsBundle;
beforeAll(async () => {
  bundle = await quickBundle();
});

const generate = (version: string, machineType: 'controlplane' | 'worker' = 'controlplane') => generateWith(bundle, version, machineType);

describe('RFC 6902 operations', () => {
  const doc = { a: { b: [1, 2, 3] }, c: 'x' };

  it('adds, removes, replaces, moves, copies and tests', () => {
    const ops: JsonPatchOperation[] = [
      { op: 'add', path: '/a/b/-', value: 4 },
      { op: 'add', path: '/a/b/0', value: 0 },
      { op: 'remove', path: '/a/b/1' },
      { op: 'replace', path: '/c', value: 'y' },
      { op: 'copy', from: '/c', path: '/d' },
      { op: 'move', from: '/d', path: '/a/e' },
      { op: 'test', path: '/a/e', value: 'y' },
      { op: 'add', path: '/a~1b', value: true },
    ];
    expect(applyJsonPatch(doc, ops)).toEqual({ a: { b: [0, 2, 3, 4], e: 'y' }, c: 'y', 'a/b': true });
    expect(doc).toEqual({ a: { b: [1, 2, 3] }, c: 'x' });
  });

  it('sets a missing key with replace (as Talos json-patch does) but not under a missing parent', () => {
    expect(applyJsonPatch(doc, [{ op: 'replace', path: '/a/z', value: 1 }])).toMatchObject({ a: { z: 1 } });
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/q/z', value: 1 }])).toThrow('(replace /q/z): path not found');
  });

  it.each([
    [{ op: 'remove', path: '/nope' }, '(remove /nope): path not found'],
    [{ op: 'add', path: '/a/b/9', value: 1 }, '(add /a/b/9): array index out of range'],
    [{ op: 'test', path: '/c', value: 'z' }, '(test /c): test failed'],
    [{ op: 'add', path: '/x/y', value: 1 }, '(add /x/y): path not found'],
    [{ op: 'add', path: 'c', value: 1 }, '(add c): path must start with "/"'],
    [{ op: 'move', from: '/a', path: '/a/b/x' }, '(move /a/b/x): cannot move a value into itself'],
    [{ op: 'frobnicate', path: '/c' }, '(frobnicate /c): unknown op "frobnicate"'],
  ])('fails %j with "%s"', (op, message) => {
    expect(() => applyJsonPatch(doc, [op as JsonPatchOperation])).toThrow(message);
  });

  it('takes a missing value as null, as CABPT sends it', () => {
    expect(applyJsonPatch(doc, [{ op: 'replace', path: '/c' }])).toMatchObject({ c: null });
  });

  it('creates missing parent mappings on add when asked to (a sequence before `-`)', () => {
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/x/y/z', value: 1 }], { createMissingParents: true })).toMatchObject({ x: { y: { z: 1 } } });
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/x/y/-', value: 1 }], { createMissingParents: true })).toMatchObject({ x: { y: [1] } });
  });
});

describe('configPatches on generated configs', () => {
  it('names the failing operation by index and path', () => {
    const ops: JsonPatchOperation[] = [
      { op: 'add', path: '/machine/install/disk', value: '/dev/sda' },
      { op: 'add', path: '/machine/certSANs/-', value: 'x' },
      { op: 'replace', path: '/machine/nope/disk', value: '/dev/sda' },
    ];
    expect(() => applyPatches(generate('v1.11'), { jsonPatches: ops })).toThrow('configPatches[2] (replace /machine/nope/disk): path not found');
  });

  it('patches the v1alpha1 document of a multi-document config instead of failing', () => {
    for (const version of ['v1.12', 'v1.13', 'v1.14']) {
      const docs = applyPatches(generate(version), {
        jsonPatches: [
          { op: 'add', path: '/machine/install', value: { disk: '/dev/sda', wipe: false } },
          { op: 'add', path: '/cluster/etcd/ca', value: { crt: 'Y3J0', key: 'a2V5' } },
        ],
      });
      expect(at(docs[0], 'machine.install')).toMatchObject({ disk: '/dev/sda' });
      expect(at(docs[0], 'cluster.etcd')).toEqual({ ca: { crt: 'Y3J0', key: 'a2V5' } });
      expect(docs.length).toBe(generate(version).length);
    }
  });

  it('puts added fields into Talos order and refuses unknown fields', () => {
    const docs = applyPatches(generate('v1.13'), { jsonPatches: [{ op: 'add', path: '/machine/install/disk', value: '/dev/vda' }] });
    expect(Object.keys(at(docs[0], 'machine.install') ?? {})).toEqual(['disk', 'wipe', 'grubUseUKICmdline']);
    expect(() => applyPatches(generate('v1.13'), { jsonPatches: [{ op: 'add', path: '/machine/kernel', value: { args: ['a'] } }] })).toThrow(
      'configPatches: the patched v1alpha1 document is invalid: document v1alpha1: unknown keys found during decoding: machine.kernel.args',
    );
  });

  it('fails like Talos when asked for strict RFC 6902 and the parent is missing', () => {
    const ops: JsonPatchOperation[] = [{ op: 'add', path: '/machine/time/servers', value: ['pool.ntp.org'] }];
    expect(at(applyPatches(generate('v1.13'), { jsonPatches: ops })[0], 'machine.time')).toEqual({ servers: ['pool.ntp.org'] });
    expect(() => applyPatches(generate('v1.13'), { jsonPatches: ops }, { createMissingParents: false })).toThrow(
      'configPatches[0] (add /machine/time/servers): path not found',
    );
  });
});

describe('strategic merge patches', () => {
  it('overwrites scalars but not with zero values, and appends lists', () => {
    const docs = applyPatches(generate('v1.11'), {
      strategicPatches: ['machine:\n  certSANs: [a.example]\n  kubelet:\n    image: ""\n    extraArgs: {v: "2"}\n  install:\n    disk: /dev/sdb\n'],
    });
    expect(at(docs[0], 'machine.certSANs')).toEqual(['a.example']);
    expect(at(docs[0], 'machine.kubelet.image')).toBe('ghcr.io/siderolabs/kubelet:v1.30.0');
    expect(at(docs[0], 'machine.kubelet.extraArgs')).toEqual({ v: '2' });
    expect(at(docs[0], 'machine.install')).toEqual({ disk: '/dev/sdb', wipe: false });
  });

  it('replaces fields tagged merge:"replace" (pod and service subnets)', () => {
    const docs = applyPatches(generate('v1.11'), { strategicPatches: ['cluster:\n  network:\n    podSubnets: [10.100.0.0/16]\n'] });
    expect(at(docs[0], 'cluster.network.podSubnets')).toEqual(['10.100.0.0/16']);
    expect(at(docs[0], 'cluster.network.serviceSubnets')).toEqual(['10.96.0.0/12']);
  });

  it('merges network interfaces by name and admission plugins by name', () => {
    const base = applyPatches(generate('v1.11'), {
      strategicPatches: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true\n'],
    });
    const docs = applyPatches(base, {
      strategicPatches: [
        'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        mtu: 9000\n      - interface: eth1\n        dhcp: false\n' +
          'cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration:\n          defaults: {enforce: restricted}\n          exemptions: {namespaces: [extra]}\n',
      ],
    });
    expect(at(docs[0], 'machine.network.interfaces')).toEqual([
      { interface: 'eth0', mtu: 9000, dhcp: true },
      { interface: 'eth1', dhcp: false },
    ]);
    const plugin = at(docs[0], 'cluster.apiServer.admissionControl.[0].configuration');
    expect(at(plugin, 'defaults.enforce')).toBe('restricted');
    expect(at(plugin, 'defaults.audit')).toBe('restricted');
    expect(at(plugin, 'exemptions.namespaces')).toEqual(['kube-system', 'extra']);
  });

  it('lets a plain bool of a struct the patch touches follow the patch (Talos always merges bools)', () => {
    // container.ContainerSecurity.machinedAccess is a plain bool; pointers to bools keep their value.
    expect(mergeValue({ machinedAccess: true }, {}, 'container.ContainerSecurity', false, false)).toEqual({ machinedAccess: false });
    expect(mergeValue({ wipe: true }, {}, 'v1alpha1.InstallConfig', false, false)).toEqual({ wipe: true });
    expect(mergeValue({ wipe: true }, { wipe: false }, 'v1alpha1.InstallConfig', false, false)).toEqual({ wipe: false });
  });

  it('merges into a matching document and appends new ones; multi-document patches work', () => {
    const docs = applyPatches(generate('v1.13'), {
      strategicPatches: [
        'apiVersion: v1alpha1\nkind: HostnameConfig\nauto: "off"\nhostname: node-7\n---\napiVersion: v1alpha1\nkind: TimeSyncConfig\nntp:\n  servers: [time.example]\n',
      ],
    });
    expect(byKind(docs, 'HostnameConfig')).toEqual({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'off', hostname: 'node-7' });
    expect(docs.at(-1)).toMatchObject({ kind: 'TimeSyncConfig', ntp: { servers: ['time.example'] } });
  });

  it('deletes keys, documents and list items with $patch: delete', () => {
    const docs = applyPatches(generate('v1.13'), {
      strategicPatches: [
        'machine:\n  nodeLabels:\n    $patch: delete\n' +
          'cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        $patch: delete\n' +
          '---\napiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n',
      ],
    });
    expect(at(docs[0], 'machine.nodeLabels')).toBeUndefined();
    expect(at(docs[0], 'cluster.apiServer.admissionControl')).toBeUndefined();
    expect(byKind(docs, 'HostnameConfig')).toBeUndefined();
  });

  it('explains failed deletes and bad patches, naming the patch', () => {
    expect(() => applyPatches(generate('v1.11'), { strategicPatches: ['x: 1\n', 'machine:\n  time:\n    servers:\n      $patch: delete\n'] })).toThrow(
      'strategicPatches[0]: document /v1alpha1/: missing kind',
    );
    expect(() => applyPatches(generate('v1.11'), { strategicPatches: ['machine:\n  time:\n    servers:\n      $patch: delete\n'] })).toThrow(
      "strategicPatches[0]: patch delete: path 'machine.time.servers' in document '/v1alpha1': failed to delete path 'machine.time.servers': lookup failed",
    );
    expect(() => applyPatches(generate('v1.11'), { strategicPatches: ['machine:\n  kubelet:\n    imag: x\n'] })).toThrow(
      'strategicPatches[0]: document v1alpha1: unknown keys found during decoding: machine.kubelet.imag',
    );
    expect(() => applyPatches(generate('v1.11'), { strategicPatches: ['machine: [\n'] })).toThrow(/^strategicPatches\[0\]: invalid YAML/);
  });

  it('refuses type mismatches inside unstructured content', () => {
    expect(() =>
      applyPatches(generate('v1.11'), {
        strategicPatches: ['cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration:\n          defaults: plain\n'],
      }),
    ).toThrow('merge type mismatch left map[string]interface {} right string');
  });

  it('accepts RFC 6902 operations given as a strategic patch (JSON or YAML list)', () => {
    const docs = applyPatches(generate('v1.13'), {
      strategicPatches: ['[{"op": "add", "path": "/machine/certSANs/-", "value": "json.example"}]', '- op: add\n  path: /machine/certSANs/-\n  value: yaml.example\n'],
    });
    expect(at(docs[0], 'machine.certSANs')).toEqual(['json.example', 'yaml.example']);
    expect(() => applyPatches(generate('v1.13'), { strategicPatches: ['- op: remove\n  path: /nope\n'] })).toThrow(
      'strategicPatches[0] operation 0 (remove /nope): path not found',
    );
  });

  it('refuses duplicate and conflicting documents', () => {
    const [linkDoc] = parseConfig('apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nmtu: 1500\n');
    expect(() => applyPatches([...generate('v1.13'), linkDoc!, linkDoc!], { strategicPatches: ['machine: {}\n'] })).toThrow('duplicate document: LinkConfig/eth0');
  });
});

describe('hostname in the render pipeline', () => {
  it('applies the static hostname after the user patches from 1.12 on', () => {
    const docs = renderMachineConfigDocuments({
      clusterName: 'demo',
      endpoint: 'https://10.0.0.1:6443',
      kubernetesVersion: '1.30.0',
      contract: parseContract('v1.14'),
      bundle,
      machineType: 'worker',
      hostname: 'worker-1',
      patches: { strategicPatches: ['apiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\n'] },
    });
    expect(byKind(docs, 'HostnameConfig')).toEqual({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'off', hostname: 'worker-1' });
  });
});
