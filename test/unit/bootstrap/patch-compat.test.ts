import { rewriteKnownMisplacements } from '../../../src/bootstrap/patch-compat';

describe('rewriteKnownMisplacements', () => {
  test('kernel args go to the installer’s extra kernel args', () => {
    const result = rewriteKnownMisplacements([
      { op: 'replace', path: '/machine/install/disk', value: '/dev/sda' },
      { op: 'add', path: '/machine/kernel/args', value: ['console=ttyS0'] },
      { op: 'add', path: '/machine/kernel/args/-', value: 'net.ifnames=0' },
    ]);
    expect(result.patches).toEqual([
      { op: 'replace', path: '/machine/install/disk', value: '/dev/sda' },
      { op: 'add', path: '/machine/install/extraKernelArgs', value: ['console=ttyS0'] },
      { op: 'add', path: '/machine/install/extraKernelArgs/-', value: 'net.ifnames=0' },
    ]);
    expect(result.notes).toEqual([
      expect.stringMatching(/^configPatches\[1\]: \/machine\/kernel\/args is not a Talos setting; applied to \/machine\/install\/extraKernelArgs/),
      expect.stringMatching(/^configPatches\[2\]: /),
    ]);
  });

  test('interface nameservers are hoisted to machine.network.nameservers, in order, once', () => {
    const result = rewriteKnownMisplacements([
      { op: 'add', path: '/machine/network/interfaces', value: [
        { interface: 'eth0', dhcp: true, nameservers: ['8.8.8.8', '8.8.4.4'] },
        { interface: 'eth1', nameservers: ['8.8.8.8', '1.1.1.1'] },
      ] },
      { op: 'add', path: '/machine/network', value: { interfaces: [{ interface: 'eth2', nameservers: ['9.9.9.9'] }] } },
    ]);
    expect(result.patches).toEqual([
      { op: 'add', path: '/machine/network/interfaces', value: [{ interface: 'eth0', dhcp: true }, { interface: 'eth1' }] },
      { op: 'add', path: '/machine/network', value: { interfaces: [{ interface: 'eth2' }] } },
      { op: 'add', path: '/machine/network/nameservers', value: ['8.8.8.8', '8.8.4.4', '1.1.1.1', '9.9.9.9'] },
    ]);
    expect(result.notes).toHaveLength(2);
  });

  test('explicit nameservers win over hoisted ones', () => {
    const result = rewriteKnownMisplacements([
      { op: 'add', path: '/machine/network/interfaces/0', value: { interface: 'eth0', nameservers: ['8.8.8.8'] } },
      { op: 'add', path: '/machine/network/nameservers', value: ['10.0.0.53'] },
    ]);
    expect(result.patches.filter((p) => p.path === '/machine/network/nameservers')).toEqual([
      { op: 'add', path: '/machine/network/nameservers', value: ['10.0.0.53'] },
    ]);
  });

  test('partition format is dropped with a note', () => {
    const result = rewriteKnownMisplacements([
      { op: 'add', path: '/machine/disks', value: [{ device: '/dev/sdb', partitions: [{ mountpoint: '/var/lib/longhorn', size: '100GB', format: 'ext4' }] }] },
    ]);
    expect(result.patches[0]!.value).toEqual([{ device: '/dev/sdb', partitions: [{ mountpoint: '/var/lib/longhorn', size: '100GB' }] }]);
    expect(result.notes).toEqual([expect.stringContaining('partition format ext4 ignored')]);
  });

  test('valid patches pass through untouched (same objects)', () => {
    const patches = [
      { op: 'add', path: '/machine/install/extensions', value: [{ image: 'ghcr.io/siderolabs/qemu-guest-agent:9.0.0' }] },
      { op: 'remove', path: '/machine/kernel/args' },
    ];
    const result = rewriteKnownMisplacements(patches);
    expect(result.patches[0]).toBe(patches[0]);
    expect(result.patches[1]).toBe(patches[1]);
    expect(result.notes).toEqual([]);
  });

  test('on contracts that turn grubUseUKICmdline on, moved kernel args turn it off', () => {
    const patches = [{ op: 'add', path: '/machine/kernel/args', value: ['console=ttyS0'] }];
    expect(rewriteKnownMisplacements(patches, { grubUseUKICmdline: true }).patches).toEqual([
      { op: 'add', path: '/machine/install/extraKernelArgs', value: ['console=ttyS0'] },
      { op: 'replace', path: '/machine/install/grubUseUKICmdline', value: false },
    ]);
    expect(rewriteKnownMisplacements(patches, { grubUseUKICmdline: false }).patches).toHaveLength(1);
  });
});
