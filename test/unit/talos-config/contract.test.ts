import { CURRENT_CONTRACT, parseContract, supportedContracts } from '../../../src/talos/config';

describe('parseContract', () => {
  it.each([
    ['v1.13', 13],
    ['v1.13.2', 13],
    ['1.13', 13],
    ['v1.14.0-rc.1', 14],
    [' v1.3 ', 3],
  ])('reads %s as minor %d', (version, minor) => {
    expect(parseContract(version).minor).toBe(minor);
    expect(parseContract(version).name).toBe(`v1.${minor}`);
  });

  it('treats minors newer than the newest known like the newest', () => {
    expect(parseContract('v1.15').features).toEqual(CURRENT_CONTRACT.features);
    expect(CURRENT_CONTRACT.name).toBe('v1.14');
  });

  it.each([
    ['v1', /invalid Talos version "v1"/],
    ['latest', /invalid Talos version/],
    ['v1.2', /oldest supported version is v1.3/],
    ['v2.0', /only Talos 1.x/],
    ['v1.13-alpha', /invalid Talos version/],
  ])('refuses %s', (version, message) => {
    expect(() => parseContract(version)).toThrow(message);
  });

  it('lists every supported contract from v1.3 to v1.14', () => {
    expect(supportedContracts().map((c) => c.name)).toEqual([
      'v1.3', 'v1.4', 'v1.5', 'v1.6', 'v1.7', 'v1.8', 'v1.9', 'v1.10', 'v1.11', 'v1.12', 'v1.13', 'v1.14',
    ]);
  });
});

describe('feature gates', () => {
  const on = (version: string) => parseContract(version).features;

  it.each([
    ['diskQuotaSupportEnabled', 'v1.4', 'v1.5'],
    ['kubePrismEnabled', 'v1.5', 'v1.6'],
    ['hostDNSEnabled', 'v1.6', 'v1.7'],
    ['useRSAServiceAccountKey', 'v1.6', 'v1.7'],
    ['clusterNameForWorkers', 'v1.7', 'v1.8'],
    ['multidocNetworkConfigSupported', 'v1.11', 'v1.12'],
    ['hideRBACAndKeyUsage', 'v1.11', 'v1.12'],
    ['kubeSpanMultidocConfig', 'v1.12', 'v1.13'],
    ['multidocKubernetesConfigSupported', 'v1.13', 'v1.14'],
    ['unattendedInstallConfig', 'v1.13', 'v1.14'],
  ] as const)('%s is off for %s and on from %s', (gate, before, since) => {
    expect(on(before)[gate]).toBe(false);
    expect(on(since)[gate]).toBe(true);
  });

  it('populates API server SANs from the endpoint only up to 1.11', () => {
    expect(on('v1.11').populateClusterSANsFromEndpoint).toBe(true);
    expect(on('v1.12').populateClusterSANsFromEndpoint).toBe(false);
  });

  it('has secretbox encryption for every supported contract', () => {
    expect(supportedContracts().every((c) => c.features.secretboxEncryptionSupported)).toBe(true);
  });
});
