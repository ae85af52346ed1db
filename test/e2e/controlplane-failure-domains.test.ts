// Failure domains in the world: the SimCluster offers three control-plane domains (and one for
// workers only), Cluster API copies them to the Cluster, and the control plane spreads its Machines
// over them through 3 → 5 → 3 — one per domain, then 2/2/1, then one per domain again — with the
// simulator's etcd history showing quorum kept throughout.
import type { Machine } from '../../src/api/capi/v1beta2/types';
import { ControlPlaneProbe } from './controlplane-fixtures';
import { createClusterWithControlPlane, createNamespace, world } from './world-fixtures';

jest.setTimeout(900_000);

const w = world();
const DOMAINS = ['fd-a', 'fd-b', 'fd-c'];

/** How many Machines each domain holds, by domain name. */
const spread = (machines: Machine[]) => {
  const counts: Record<string, number> = {};
  for (const m of machines) counts[m.spec.failureDomain ?? '(none)'] = (counts[m.spec.failureDomain ?? '(none)'] ?? 0) + 1;
  return counts;
};

describe('a control plane spread over three failure domains', () => {
  let cp: ControlPlaneProbe;

  beforeAll(async () => {
    const namespace = await createNamespace(w.client, 'e2e-cp-domains');
    const failureDomains = [...DOMAINS.map((name) => ({ name, controlPlane: true })), { name: 'fd-workers', controlPlane: false }];
    cp = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, 'omega', 3, { failureDomains }));
  });

  it('comes up with one Machine in each control-plane domain', async () => {
    const { machines } = await cp.settled(3, 'v1.34.1');
    expect(spread(machines)).toEqual({ 'fd-a': 1, 'fd-b': 1, 'fd-c': 1 });
  });

  it('scales to 5 as 2/2/1 and back to 3 as one per domain, keeping quorum', async () => {
    const before = await cp.historyLength();
    await cp.patch({ replicas: 5 });
    const five = await cp.settled(5, 'v1.34.1');
    expect(Object.values(spread(five.machines)).sort()).toEqual([1, 2, 2]);
    expect(Object.keys(spread(five.machines)).sort()).toEqual(DOMAINS);

    expect((await cp.judgeSince(before)).quorumAlwaysKept).toBe(true);

    const beforeDown = await cp.historyLength();
    await cp.patch({ replicas: 3 });
    const three = await cp.settled(3, 'v1.34.1');
    expect(spread(three.machines)).toEqual({ 'fd-a': 1, 'fd-b': 1, 'fd-c': 1 });
    const judged = await cp.judgeSince(beforeDown);
    expect(judged.quorumAlwaysKept).toBe(true);
    expect(judged.maxMembersChangedAtOnce).toBeLessThanOrEqual(1);
  });
});
