// talos-capi render on manifests as Git holds them: which object is read from which file, how
// flags change the Machine it renders for, and how bad input ends (exit 2, one line).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadSecretsBundle, parseConfig } from '../../../src/talos/config';
import { base64, runCli as run, SEEDS, seedWithEtcdCA } from './cli-harness';

let dir: string;
let secrets: string;
let clusterFile: string;

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : stringify(content));
  return path;
}

const CLUSTER = {
  apiVersion: 'cluster.x-k8s.io/v1beta1',
  kind: 'Cluster',
  metadata: { name: 'proxmox', namespace: 'default' },
  spec: {
    controlPlaneEndpoint: { host: '192.168.1.99', port: 6443 },
    clusterNetwork: { pods: { cidrBlocks: ['10.200.0.0/16'] }, serviceDomain: 'example.internal' },
  },
};

const talosConfig = (name: string, spec: Record<string, unknown>, apiVersion = 'bootstrap.cluster.x-k8s.io/v1beta1') => ({
  apiVersion, kind: 'TalosConfig', metadata: { name }, spec,
});

const machine = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'cluster.x-k8s.io/v1beta2',
  kind: 'Machine',
  metadata: { name, namespace: 'default' },
  spec: {
    clusterName: 'proxmox',
    version: 'v1.33.2',
    bootstrap: { configRef: { apiGroup: 'bootstrap.cluster.x-k8s.io', kind: 'TalosConfig', name } },
    infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'ProxmoxMachine', name: `${name}-infra` },
    ...spec,
  },
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML is navigated freely; a wrong path fails the assertion
type V1alpha1 = { machine: Record<string, any>; cluster: Record<string, any> };
const v1alpha1Of = (text: string) => parseConfig(text.replace(/^#!talos\n/, '')).find((d) => d.version === 'v1alpha1') as unknown as V1alpha1;
/** The kubelet image, wherever the config's contract keeps it (a KubeletConfig document from Talos 1.13). */
function kubeletImageOf(text: string): unknown {
  const kubelet = parseConfig(text.replace(/^#!talos\n/, '')).find((d) => d.kind === 'KubeletConfig') as { image?: string } | undefined;
  return kubelet?.image ?? v1alpha1Of(text).machine.kubelet?.image;
}
const hostnameOf = (text: string) => (parseConfig(text).find((d) => d.kind === 'HostnameConfig') as { hostname?: string } | undefined)?.hostname;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'talos-capi-render-'));
  secrets = join(dir, 'secrets.yaml');
  expect((await run('gen', 'secrets', '-o', secrets)).code).toBe(0);
  clusterFile = file('cluster.yaml', CLUSTER);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('talos-capi render', () => {
  it('renders a seed TalosConfig (v1alpha3) in the Cluster: endpoint, cluster network, bundle, patches; rewrites on stderr', async () => {
    const result = await run('render', '-f', join(SEEDS, '000-talosconfig-controlplane-config.yaml'), '--cluster', clusterFile, '--secrets', secrets);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('talos-capi: warning: configPatches: /machine/kernel/args is not a Talos setting; moved to /machine/install/extraKernelArgs (kernel arguments of the installed system)\n');
    const doc = v1alpha1Of(result.stdout);
    const bundle = loadSecretsBundle(readFileSync(secrets, 'utf8'));
    expect(doc.machine.type).toBe('controlplane');
    expect(doc.machine.install.disk).toBe('/dev/sda');
    expect(doc.cluster.controlPlane.endpoint).toBe('https://192.168.1.99:6443');
    expect(doc.cluster.clusterName).toBe('proxmox');
    expect(doc.cluster.network).toMatchObject({ dnsDomain: 'example.internal', podSubnets: ['10.200.0.0/16'] });
    expect(doc.cluster.id).toBe(bundle.cluster.id);
    expect(doc.machine.token).toBe(bundle.trustdInfo.token);
  });

  it('reads v1alpha3, v1beta1 and a TalosConfigTemplate of the same spec to the same config', async () => {
    const spec = { generateType: 'worker', talosVersion: 'v1.10', configPatches: [{ op: 'add', path: '/machine/install/disk', value: '/dev/vdb' }] };
    const outputs = await Promise.all([
      file('a3.yaml', talosConfig('w', spec, 'bootstrap.cluster.x-k8s.io/v1alpha3')),
      file('b1.yaml', talosConfig('w', spec)),
      file('tpl.yaml', { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfigTemplate', metadata: { name: 'w' }, spec: { template: { spec } } }),
    ].map(async (path) => (await run('render', '-f', path, '--cluster', clusterFile, '--secrets', secrets)).stdout));
    expect(v1alpha1Of(outputs[0]!).machine.install.disk).toBe('/dev/vdb');
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[2]).toBe(outputs[0]);
  });

  it('takes the Machine from --machine (version, name for the hostname, Equinix Metal marker) and a multi-document file', async () => {
    const config = talosConfig('node-a', { generateType: 'worker', hostname: { source: 'MachineName' } });
    const other = talosConfig('node-b', { generateType: 'controlplane' });
    const otherCluster = { ...CLUSTER, metadata: { name: 'other', namespace: 'default' }, spec: { controlPlaneEndpoint: { host: '10.9.9.9', port: 6443 } } };
    const manifests = file('all.yaml', [config, other, otherCluster, CLUSTER].map((o) => stringify(o)).join('---\n'));
    const machines = file('machines.yaml', [machine('node-b'), machine('node-a', { infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'PacketMachine', name: 'n' } })].map((o) => stringify(o)).join('---\n'));
    const result = await run('render', '-f', manifests, '--name', 'node-a', '--cluster', manifests, '--machine', machines, '--secrets', secrets);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.startsWith('#!talos\n')).toBe(true);
    expect(hostnameOf(result.stdout.slice('#!talos\n'.length))).toBe('node-a');
    expect(kubeletImageOf(result.stdout)).toBe('ghcr.io/siderolabs/kubelet:v1.33.2');
    // The Cluster the Machine names, not the first in the file.
    expect(result.stdout).toContain('endpoint: https://192.168.1.99:6443');
    expect(result.stdout).not.toContain('10.9.9.9');
  });

  it('reads a List (kubectl get -o yaml) and, without --machine, names the Machine after the config', async () => {
    const list = file('list.yaml', { apiVersion: 'v1', kind: 'List', items: [talosConfig('node-c', { generateType: 'worker', hostname: { source: 'MachineName' } }), CLUSTER] });
    const result = await run('render', '-f', list, '--cluster', list, '--secrets', secrets);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(hostnameOf(result.stdout)).toBe('node-c');
  });

  it('--hostname names the Machine, --kubernetes-version and --role override the Machine and the spec', async () => {
    const config = file('named.yaml', talosConfig('n', { generateType: 'controlplane', hostname: { source: 'InfrastructureName' } }));
    const result = await run('render', '-f', config, '--cluster', clusterFile, '--secrets', secrets, '--hostname', 'edge-7', '--kubernetes-version', 'v1.32.4', '--role', 'worker');
    expect(result.code).toBe(0);
    expect(hostnameOf(result.stdout)).toBe('edge-7');
    expect(v1alpha1Of(result.stdout).machine.type).toBe('worker');
    expect(kubeletImageOf(result.stdout)).toBe('ghcr.io/siderolabs/kubelet:v1.32.4');
  });

  it('renders a seed TalosControlPlane: its version, init config for --first, controlplane config otherwise', async () => {
    const etcd = loadSecretsBundle(readFileSync(secrets, 'utf8')).certs.etcd!;
    const tcp = file('tcp.yaml', seedWithEtcdCA('000-taloscontrolplane-cluster-control-plane.yaml', secrets));
    const first = await run('render', '-f', tcp, '--cluster', clusterFile, '--secrets', secrets, '--first');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    // No init config in this seed: its first Machine is a controlplane one, as CACPPT does.
    expect(v1alpha1Of(first.stdout).machine.type).toBe('controlplane');
    expect(kubeletImageOf(first.stdout)).toBe('ghcr.io/siderolabs/kubelet:v1.29.0');
    expect(v1alpha1Of(first.stdout).cluster.etcd.ca).toEqual({ crt: base64(etcd.crt), key: base64(etcd.key) });

    const production = file('production.yaml', seedWithEtcdCA('000-taloscontrolplane-production-control-plane.yaml', secrets));
    const init = await run('render', '-f', production, '--cluster', clusterFile, '--secrets', secrets, '--first');
    expect(init.code).toBe(0);
    expect(v1alpha1Of(init.stdout).machine.type).toBe('init');
    // Its controlplane config sets cluster.controllerManager in the v1alpha1 document, which the
    // newest Talos (its talosVersion is left out) configures in a document of its own.
    const rest = await run('render', '-f', production, '--cluster', clusterFile, '--secrets', secrets);
    expect(rest).toMatchObject({ code: 2, stdout: '' });
    expect(rest.stderr).toMatch(/^talos-capi: InvalidConfig: cluster\.controllerManager is set in the v1alpha1 document/);
  });

  it('a seed TalosControlPlane as written fails as the operator fails it: its etcd CA is a placeholder', async () => {
    const result = await run('render', '-f', join(SEEDS, '000-taloscontrolplane-cluster-control-plane.yaml'), '--cluster', clusterFile, '--secrets', secrets);
    expect(result).toEqual({
      code: 2, stdout: '',
      stderr: 'talos-capi: InvalidConfig: configPatches: the patched v1alpha1 document is invalid: document v1alpha1: cluster.etcd.ca.crt: illegal base64 data\n',
    });
  });

  it('without --secrets renders with a throw-away bundle and says so', async () => {
    const config = join(SEEDS, '000-talosconfig-worker-node-bootstrap.yaml');
    const [a, b] = await Promise.all([run('render', '-f', config, '--cluster', clusterFile), run('render', '-f', config, '--cluster', clusterFile)]);
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/^talos-capi: no --secrets given: rendering with a throw-away secrets bundle/);
    expect(v1alpha1Of(a.stdout).machine.type).toBe('worker');
    expect(v1alpha1Of(a.stdout).cluster.id).not.toBe(v1alpha1Of(b.stdout).cluster.id);
  });

  it('reads YAML as kubectl does: yes is true, a date stays a string', async () => {
    const config = file('yaml11.yaml', [
      'apiVersion: bootstrap.cluster.x-k8s.io/v1beta1', 'kind: TalosConfig', 'metadata: {name: y}', 'spec:', '  generateType: worker', '  talosVersion: v1.10',
      '  configPatches:', '    - {op: add, path: /machine/install/wipe, value: yes}', '    - {op: add, path: /machine/kubelet/extraArgs, value: {since: 2024-01-02}}', '',
    ].join('\n'));
    const result = await run('render', '-f', config, '--cluster', clusterFile, '--secrets', secrets);
    expect(result.code).toBe(0);
    expect(v1alpha1Of(result.stdout).machine).toMatchObject({ install: { wipe: true }, kubelet: { extraArgs: { since: '2024-01-02' } } });
  });

  it('-o writes the config to a file readable by the owner only', async () => {
    const out = join(dir, 'out.yaml');
    const result = await run('render', '-f', join(SEEDS, '000-talosconfig-worker-node-bootstrap.yaml'), '--cluster', clusterFile, '--secrets', secrets, '-o', out);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(v1alpha1Of(readFileSync(out, 'utf8')).machine.type).toBe('worker');
  });

  it.each([
    ['a broken patch', [talosConfig('bad', { generateType: 'worker', configPatches: [{ op: 'replace', path: '/machine/nothing/here', value: 1 }] })], [],
      /^talos-capi: InvalidConfig: configPatches\[0\] \(replace \/machine\/nothing\/here\): /],
    ['an unknown generateType', [talosConfig('bad', { generateType: 'master' })], [],
      /^talos-capi: InvalidConfig: unknown generateType "master": allowed values are init, controlplane, worker, join, none\n$/],
    ['a bad talosVersion', [talosConfig('bad', { generateType: 'worker', talosVersion: 'v0.1' })], [], /^talos-capi: InvalidConfig: invalid talosVersion "v0.1": /],
    ['two configs and no --name', [talosConfig('a', { generateType: 'worker' }), talosConfig('b', { generateType: 'worker' })], [],
      /holds several TalosConfig, TalosConfigTemplate or TalosControlPlanes \(TalosConfig a, TalosConfig b\): pick one with --name\n$/],
    ['no config', [CLUSTER], [], /holds no TalosConfig, TalosConfigTemplate or TalosControlPlane\n$/],
    ['--name naming no config', [talosConfig('a', { generateType: 'worker' })], ['--name', 'b'],
      /holds no TalosConfig, TalosConfigTemplate or TalosControlPlane named b \(it has TalosConfig a\)\n$/],
    ['an unserved version', [talosConfig('a', { generateType: 'worker' }, 'bootstrap.cluster.x-k8s.io/v1alpha2')], [], /cannot convert TalosConfig from bootstrap\.cluster\.x-k8s\.io\/v1alpha2/],
    ['--role on generateType none', [talosConfig('a', { generateType: 'none', data: 'version: v1alpha1' })], ['--role', 'worker'], /--role cannot apply to generateType "none"/],
    ['--first on a TalosConfig', [talosConfig('a', { generateType: 'worker' })], ['--first'], /--first applies to a TalosControlPlane only\n$/],
    ['a Machine of another cluster', [talosConfig('a', { generateType: 'worker' })], ['--machine', 'other-machine.yaml'], /Machine a belongs to cluster other, not to proxmox\n$/],
  ])('%s: exit 2 and one line on stderr', async (_what, objects, extra, message) => {
    file('other-machine.yaml', machine('a', { clusterName: 'other' }));
    const manifest = file('bad.yaml', objects.map((o) => stringify(o)).join('---\n'));
    const args = extra.map((arg) => (arg.endsWith('.yaml') ? join(dir, arg) : arg));
    const result = await run('render', '-f', manifest, '--cluster', clusterFile, '--secrets', secrets, ...args);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a Cluster without a control-plane endpoint: exit 2, as the operator waits for it', async () => {
    const cluster = file('no-endpoint.yaml', { ...CLUSTER, spec: {} });
    const result = await run('render', '-f', join(SEEDS, '000-talosconfig-worker-node-bootstrap.yaml'), '--cluster', cluster, '--secrets', secrets);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `talos-capi: Cluster proxmox has no spec.controlPlaneEndpoint (host and port): the operator waits until it is set; set it in ${cluster}\n` });
  });

  it.each([
    ['not YAML', 'cluster: [', 'cannot be read: secrets bundle is not valid YAML'],
    ['without its CAs', 'cluster: {id: x}\n', 'is not usable: certs.os: the certificate is missing; certs.k8s: the certificate is missing'],
  ])('a secrets file %s: exit 2 naming it', async (_what, content, message) => {
    const bad = file('bad-secrets.yaml', content);
    const result = await run('render', '-f', join(SEEDS, '000-talosconfig-worker-node-bootstrap.yaml'), '--cluster', clusterFile, '--secrets', bad);
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith(`talos-capi: secrets bundle ${bad} ${message}`)).toBe(true);
  });

  it('--help lists every flag', async () => {
    const result = await run('render', '--help');
    expect(result.code).toBe(0);
    for (const flag of ['-f, --filename FILE', '--cluster FILE', '--secrets FILE', '--machine FILE', '--name NAME', '--role ROLE', '--first', '--hostname NAME', '--kubernetes-version VERSION', '-o, --output FILE', '--force']) {
      expect(result.stdout).toContain(flag);
    }
    expect((await run('--help')).stdout).toMatch(/\n {2}render {15}print the machine config the operator would write/);
  });
});
