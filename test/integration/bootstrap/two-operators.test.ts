// Two operator processes without leader election race on one cluster, and the
// apiserver restarts in the middle: still exactly one secrets bundle, and every
// machine config carries it.
import { parse as parseYaml } from 'yaml';
import { SecretKind } from '../../../src/kube/client/resource';
import { loadSecretsBundle } from '../../../src/talos/config';
import { restartApiserver } from '../../testbed/testbed';
import { createCluster, createMachine, createNamespace, createTalosConfig, decode, readSecret, testClient, waitForBootstrapData } from '../../support/capi-fixtures';
import { type OperatorProcess, startOperator } from '../../support/operator-process';

jest.setTimeout(300_000);

let operators: OperatorProcess[] = [];

afterAll(async () => {
  await Promise.all(operators.map((operator) => operator.stop()));
});

test('one bundle for the cluster across two operators and an apiserver restart', async () => {
  const client = testClient();
  operators = await Promise.all([startOperator(), startOperator()]);
  const ns = await createNamespace(client, 'race');
  const cluster = await createCluster(client, ns, 'race');
  const names = ['cp-0', 'cp-1', 'cp-2', 'w-0', 'w-1', 'w-2', 'w-3', 'w-4'];
  const create = async (name: string) => {
    const controlPlane = name.startsWith('cp');
    const machine = await createMachine(client, cluster, name, { controlPlane });
    await createTalosConfig(client, machine, { generateType: controlPlane ? 'controlplane' : 'worker', talosVersion: 'v1.13' });
  };
  await Promise.all(names.slice(0, 4).map(create));
  await restartApiserver(process.env.TESTBED_DIR!);
  await Promise.all(names.slice(4).map(create));

  const results = await Promise.all(names.map((name) => waitForBootstrapData(client, ns, name, 120_000)));
  const bundleSecrets = (await client.list(SecretKind, { namespace: ns })).items.filter((s) => s.metadata.name!.endsWith('-talos'));
  expect(bundleSecrets.map((s) => s.metadata.name)).toEqual(['race-talos']);
  const bundle = loadSecretsBundle(decode((await readSecret(client, ns, 'race-talos'))!.data!.bundle));
  for (const { data } of results) {
    const machine = parseYaml(data.split('\n---\n')[0]!).machine;
    expect(machine.token).toBe(bundle.trustdInfo.token);
    expect(decode(machine.ca.crt)).toBe(bundle.certs.os!.crt);
  }
  // Both processes stayed up through the restart.
  for (const operator of operators) expect(await fetch(`http://${operator.healthAddress}/healthz`).then((r) => r.ok)).toBe(true);
});
