// Misplaced settings reached by patches of other shapes than `add /machine/kernel/args` boot too:
// the bootstrap data carries them where Talos reads them, and a ConfigPatchRewritten Warning
// names what moved.
import { parse as parseYaml } from 'yaml';
import { createCluster, createMachine, createNamespace, createTalosConfig, eventually, eventsFor, waitForBootstrapData } from '../../support/capi-fixtures';
import { useBootstrapEnvironment } from '../../support/bootstrap-env';

jest.setTimeout(120_000);

const env = useBootstrapEnvironment();

const machineOf = (data: string) => parseYaml(data.replace(/^#!talos\n/, '').split('\n---\n')[0]!).machine;

test('kernel args in `add /machine/kernel` and interface nameservers in a strategic patch are moved, with Warnings', async () => {
  const ns = await createNamespace(env.client, 'patchcompat');
  const cluster = await createCluster(env.client, ns, 'c');
  const machine = await createMachine(env.client, cluster, 'w');
  await createTalosConfig(env.client, machine, {
    generateType: 'worker',
    talosVersion: 'v1.12',
    configPatches: [{ op: 'add', path: '/machine/kernel', value: { args: ['console=ttyS0'] } }],
    strategicPatches: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true\n        nameservers: [9.9.9.9]\n'],
  });
  const { data } = await waitForBootstrapData(env.client, ns, 'w');
  const config = machineOf(data);
  expect(config.install).toMatchObject({ extraKernelArgs: ['console=ttyS0'], grubUseUKICmdline: false });
  expect(config.kernel).toBeUndefined();
  expect(config.network).toMatchObject({ interfaces: [{ interface: 'eth0', dhcp: true }], nameservers: ['9.9.9.9'] });

  // The three Events of one render; the recorder may write them one after another.
  const events = await eventually('three ConfigPatchRewritten Events', async () => {
    const found = await eventsFor(env.client, ns, 'w', 'ConfigPatchRewritten');
    return found.length >= 3 ? found : undefined;
  });
  expect(events.map((event) => event.type)).toEqual(['Warning', 'Warning', 'Warning']);
  const notes = events.map((event) => event.note);
  expect(notes).toEqual(expect.arrayContaining([
    expect.stringMatching(/^configPatches: \/machine\/kernel\/args is not a Talos setting; moved to \/machine\/install\/extraKernelArgs/),
    expect.stringMatching(/^configPatches: \/machine\/install\/grubUseUKICmdline set to false/),
    expect.stringMatching(/^strategicPatches\[0\]: interface nameservers moved to \/machine\/network\/nameservers/),
  ]));
});
