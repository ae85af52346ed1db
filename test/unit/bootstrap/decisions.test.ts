import type { Cluster, Machine, MachinePool } from '../../../src/api/capi/v1beta2/types';
import {
  adoptableDataSecretName,
  bootstrapDataSecretName,
  clusterNetworkOf,
  configClaimingOwner,
  jsonDepth,
  MAX_PATCH_DEPTH,
  MAX_REQUEUE_MS,
  patchDepthProblem,
  renewalDue,
  requeueForRenewal,
  controlPlaneEndpointUrl,
  hostnameFor,
  kubernetesVersionOf,
  planFor,
  talosconfigEndpoints,
  talosconfigNeedsRenewal,
  userDataPrefix,
  waitingForCluster,
  writesTalosconfig,
} from '../../../src/bootstrap/decisions';

function machine(name: string, extra: Partial<Machine['spec']> = {}, labels: Record<string, string> = {}): Machine {
  return {
    apiVersion: 'cluster.x-k8s.io/v1beta2',
    kind: 'Machine',
    metadata: { name, namespace: 'default', labels },
    spec: {
      clusterName: 'c1',
      bootstrap: {},
      infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'ProxmoxMachine', name: `${name}-infra` },
      ...extra,
    },
  };
}

function cluster(spec: Cluster['spec'] = {}, provisioned = true): Cluster {
  return {
    apiVersion: 'cluster.x-k8s.io/v1beta2',
    kind: 'Cluster',
    metadata: { name: 'c1', namespace: 'default' },
    spec,
    status: { initialization: { infrastructureProvisioned: provisioned } },
  };
}

const pool: MachinePool = {
  apiVersion: 'cluster.x-k8s.io/v1beta2',
  kind: 'MachinePool',
  metadata: { name: 'pool', namespace: 'default' },
  spec: {
    clusterName: 'c1',
    template: { spec: { ...machine('x').spec, version: 'v1.33.1', infrastructureRef: { apiGroup: 'i', kind: 'PacketMachinePool', name: 'p' } } },
  },
};

describe('planFor', () => {
  test.each([
    ['init', 'init'],
    ['controlplane', 'controlplane'],
    ['worker', 'worker'],
    ['join', 'worker'],
    ['', 'worker'],
  ])('generateType %j generates a %s config', (generateType, machineType) => {
    expect(planFor({ generateType })).toEqual({ kind: 'generate', machineType });
  });

  test('none passes user data through, and needs it', () => {
    expect(planFor({ generateType: 'none', data: 'version: v1alpha1' })).toEqual({ kind: 'userData' });
    expect(planFor({ generateType: 'none' })).toMatchObject({ kind: 'invalid', message: expect.stringContaining('spec.data') });
  });

  test('an unknown type names the allowed values', () => {
    expect(planFor({ generateType: 'master' })).toEqual({
      kind: 'invalid',
      message: 'unknown generateType "master": allowed values are init, controlplane, worker, join, none',
    });
  });

  test('only control-plane configs write the talosconfig', () => {
    expect(writesTalosconfig(planFor({ generateType: 'init' }))).toBe(true);
    expect(writesTalosconfig(planFor({ generateType: 'controlplane' }))).toBe(true);
    expect(writesTalosconfig(planFor({ generateType: 'worker' }))).toBe(false);
    expect(writesTalosconfig(planFor({ generateType: 'none', data: 'x' }))).toBe(false);
  });
});

describe('cluster inputs', () => {
  test('endpoint URL brackets IPv6 hosts', () => {
    expect(controlPlaneEndpointUrl(cluster({ controlPlaneEndpoint: { host: '10.0.0.10', port: 6443 } }))).toBe('https://10.0.0.10:6443');
    expect(controlPlaneEndpointUrl(cluster({ controlPlaneEndpoint: { host: 'fd00::10', port: 6443 } }))).toBe('https://[fd00::10]:6443');
    expect(controlPlaneEndpointUrl(cluster({ controlPlaneEndpoint: { host: 'example.com', port: 443 } }))).toBe('https://example.com:443');
  });

  test('no endpoint until host and port are both set', () => {
    expect(controlPlaneEndpointUrl(cluster({}))).toBeUndefined();
    expect(controlPlaneEndpointUrl(cluster({ controlPlaneEndpoint: { host: '', port: 0 } }))).toBeUndefined();
    expect(controlPlaneEndpointUrl(cluster({ controlPlaneEndpoint: { host: 'a', port: 0 } }))).toBeUndefined();
  });

  test('waits for infrastructure, then for the endpoint', () => {
    expect(waitingForCluster(cluster({ controlPlaneEndpoint: { host: 'a', port: 1 } }, false))).toMatch(/infrastructure/);
    expect(waitingForCluster(cluster({}, true))).toMatch(/control plane endpoint/);
    expect(waitingForCluster(cluster({ controlPlaneEndpoint: { host: 'a', port: 1 } }))).toBeUndefined();
  });

  test('cluster network overrides only what the Cluster sets', () => {
    expect(clusterNetworkOf(cluster({}))).toEqual({});
    expect(
      clusterNetworkOf(
        cluster({
          clusterNetwork: { serviceDomain: 'mycluster.local', pods: { cidrBlocks: ['10.244.0.0/16', 'fd00:10:244::/56'] }, services: { cidrBlocks: ['10.96.0.0/12'] } },
        }),
      ),
    ).toEqual({ dnsDomain: 'mycluster.local', podCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'], serviceCIDRs: ['10.96.0.0/12'] });
  });
});

describe('owner inputs', () => {
  test('Kubernetes version without the leading v, from a Machine or a MachinePool template', () => {
    expect(kubernetesVersionOf(machine('m', { version: 'v1.34.2' }))).toBe('1.34.2');
    expect(kubernetesVersionOf(machine('m'))).toBeUndefined();
    expect(kubernetesVersionOf(pool)).toBe('1.33.1');
  });

  test('hostname from the Machine name or its infrastructure name; never for pools', () => {
    expect(hostnameFor({ generateType: 'worker', hostname: { source: 'MachineName' } }, machine('m1'))).toBe('m1');
    expect(hostnameFor({ generateType: 'worker', hostname: { source: 'InfrastructureName' } }, machine('m1'))).toBe('m1-infra');
    expect(hostnameFor({ generateType: 'worker' }, machine('m1'))).toBeUndefined();
    expect(hostnameFor({ generateType: 'worker', hostname: { source: 'MachineName' } }, pool)).toBeUndefined();
  });

  test('Packet machines get the #!talos marker', () => {
    expect(userDataPrefix(machine('m'))).toBe('');
    expect(userDataPrefix(machine('m', { infrastructureRef: { apiGroup: 'i', kind: 'PacketMachine', name: 'p' } }))).toBe('#!talos\n');
    expect(userDataPrefix(pool)).toBe('#!talos\n');
  });

  test('secret names and adoption', () => {
    expect(bootstrapDataSecretName(machine('cp-0'))).toBe('cp-0-bootstrap-data');
    expect(adoptableDataSecretName(machine('m', { bootstrap: { dataSecretName: 'restored' } }))).toBe('restored');
    expect(adoptableDataSecretName(machine('m'))).toBeUndefined();
  });
});

describe('talosconfig', () => {
  const cp = (name: string, ...addresses: [string, string][]) => {
    const m = machine(name, {}, { 'cluster.x-k8s.io/control-plane': '' });
    m.status = { addresses: addresses.map(([type, address]) => ({ type: type as 'ExternalIP', address })) };
    return m;
  };

  test('endpoints are the control-plane IPs, sorted, without duplicates; workers and DNS names left out', () => {
    const worker = machine('w');
    worker.status = { addresses: [{ type: 'ExternalIP', address: '10.0.0.9' }] };
    const machines = [cp('b', ['ExternalIP', '10.0.0.3'], ['Hostname', 'b']), cp('a', ['InternalIP', '10.0.0.2'], ['ExternalIP', '10.0.0.3']), worker];
    expect(talosconfigEndpoints(machines)).toEqual(['10.0.0.2', '10.0.0.3']);
  });

  test('explicit endpoints win', () => {
    expect(talosconfigEndpoints([cp('a', ['ExternalIP', '10.0.0.2'])], ['talos.example.com'])).toEqual(['talos.example.com']);
  });

  test('renewal: missing, endpoints changed, or past half its life', () => {
    const issued = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z'), endpoints: ['10.0.0.2'] };
    expect(talosconfigNeedsRenewal(undefined, ['10.0.0.2'], new Date('2026-02-01T00:00:00Z'))).toBe(true);
    expect(talosconfigNeedsRenewal(issued, ['10.0.0.2'], new Date('2026-02-01T00:00:00Z'))).toBe(false);
    expect(talosconfigNeedsRenewal(issued, ['10.0.0.2', '10.0.0.3'], new Date('2026-02-01T00:00:00Z'))).toBe(true);
    expect(talosconfigNeedsRenewal(issued, ['10.0.0.2'], new Date('2026-07-03T00:00:00Z'))).toBe(true);
  });
});

describe('one config per owner', () => {
  const config = (name: string, created: string, extra: { made?: boolean; deleting?: boolean; owner?: string } = {}) => ({
    metadata: {
      name,
      uid: `${name}-uid`,
      creationTimestamp: created,
      ownerReferences: [{ uid: extra.owner ?? 'machine-uid' }],
      ...(extra.deleting ? { deletionTimestamp: created } : {}),
    },
    status: extra.made ? { initialization: { dataSecretCreated: true } } : {},
  });

  test('the config that made its data wins, else the oldest, then by name; deleting and unrelated ones do not count', () => {
    const a = config('a', '2026-01-01T00:00:00Z');
    const b = config('b', '2026-01-02T00:00:00Z', { made: true });
    const c = config('c', '2026-01-01T00:00:00Z');
    expect(configClaimingOwner('machine-uid', [a, b, c])).toBe(b);
    expect(configClaimingOwner('machine-uid', [c, a])).toBe(a);
    expect(configClaimingOwner('machine-uid', [config('old', '2025-01-01T00:00:00Z', { deleting: true }), c])).toBe(c);
    expect(configClaimingOwner('machine-uid', [config('x', '2025-01-01T00:00:00Z', { owner: 'other' })])).toBeUndefined();
  });
});

describe('patch depth', () => {
  const nested = (depth: number) => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++) value = { n: value };
    return value;
  };

  test('depth is counted without recursion, even far past the stack limit', () => {
    expect(jsonDepth('x')).toBe(0);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
    expect(jsonDepth(nested(200_000))).toBe(200_000);
    expect(jsonDepth(nested(200_000), 10)).toBe(11);
  });

  test('a patch deeper than the bound is named; one at the bound passes', () => {
    expect(patchDepthProblem({ generateType: 'worker', configPatches: [{ op: 'add', path: '/a', value: nested(MAX_PATCH_DEPTH) }] })).toBeUndefined();
    expect(patchDepthProblem({ generateType: 'worker', configPatches: [{ op: 'add', path: '/a', value: 1 }, { op: 'add', path: '/b', value: nested(MAX_PATCH_DEPTH + 1) }] })).toBe(
      `configPatches[1].value nests deeper than ${MAX_PATCH_DEPTH} levels, more than any Talos config has`,
    );
  });
});

describe('renewal timing', () => {
  const issued = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z'), endpoints: [] };

  test('due at half life; the requeue is clamped to [1 s, MAX_REQUEUE_MS]', () => {
    expect(renewalDue(issued).toISOString()).toBe('2026-07-02T12:00:00.000Z');
    expect(requeueForRenewal(renewalDue(issued), new Date('2026-07-02T11:59:30Z'))).toBe(30_000);
    expect(requeueForRenewal(renewalDue(issued), new Date('2026-08-01T00:00:00Z'))).toBe(1_000);
    expect(requeueForRenewal(renewalDue(issued), new Date('2026-01-01T00:00:00Z'))).toBe(MAX_REQUEUE_MS);
  });
});
