// The config matrix (test/talos/matrix.ts) run against Talos's own library
// through the oracle: every case must come out of Talos as the matrix says
// (a config, or a refusal), and every config must pass strict validation in
// the modes the case names.
import { ORACLE_BUILD_TIMEOUT_MS, OracleError, TalosOracle, type GenConfigParams } from '../support/talos-oracle';
import { buildMatrix, contractMinor, CONTRACTS, MACHINE_TYPES, type ConfigCase, type Contract } from './matrix';

const NOW = '2026-01-01T00:00:00Z';
const cases = buildMatrix();

let oracle: TalosOracle;
/** One bundle per service-account key type: ECDSA up to contract 1.6, RSA-4096 from 1.7. */
const bundles: { ecdsa?: string; rsa?: string } = {};

beforeAll(async () => {
  oracle = await TalosOracle.start();
  bundles.ecdsa = await oracle.genSecrets({ talosVersion: 'v1.6', now: NOW });
  bundles.rsa = await oracle.genSecrets({ talosVersion: 'v1.14', now: NOW });
}, ORACLE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await oracle?.close();
});

function bundleFor(contract: Contract): string {
  const bundle = contractMinor(contract) <= 6 ? bundles.ecdsa : bundles.rsa;
  if (!bundle) throw new Error('bundles not generated');
  return bundle;
}

function talosParams(c: ConfigCase): GenConfigParams {
  return {
    clusterName: c.clusterName,
    endpoint: c.input.endpoint,
    kubernetesVersion: c.kubernetesVersion,
    talosVersion: c.contract,
    machineType: c.machineType,
    dnsDomain: c.input.dnsDomain,
    podCIDRs: c.input.podCIDRs,
    serviceCIDRs: c.input.serviceCIDRs,
    bundle: bundleFor(c.contract),
    hostname: c.input.hostname?.value,
    configPatches: c.configPatches,
    strategicPatches: c.strategicPatches,
  };
}

/** Talos's config for a case, or the message it refused it with. */
async function talosOutcome(c: ConfigCase): Promise<{ config: string } | { error: string }> {
  try {
    return { config: await oracle.genConfig(talosParams(c)) };
  } catch (err) {
    if (err instanceof OracleError) return { error: err.talosMessage };
    throw err;
  }
}

/** Problems with one case; empty when it behaves as the matrix says. */
async function checkCase(c: ConfigCase): Promise<string[]> {
  const talos = await talosOutcome(c);
  if (c.expect === 'error') {
    return 'error' in talos ? [] : [`${c.name}: Talos accepted a case the matrix expects it to refuse`];
  }
  if ('error' in talos) return [`${c.name}: Talos refused it: ${talos.error}`];
  const problems: string[] = [];
  for (const mode of c.validation.modes) {
    const result = await oracle.validate({ config: talos.config, mode, strict: c.validation.strict });
    if (!result.valid) problems.push(`${c.name}: invalid in ${mode} mode: ${result.errors.join('; ')}`);
  }
  return problems;
}

describe.each(CONTRACTS.flatMap((contract) => MACHINE_TYPES.map((type) => [contract, type] as const)))('%s %s', (contract, type) => {
  const group = cases.filter((c) => c.contract === contract && c.machineType === type);

  test(`Talos produces what the matrix expects (${group.length} cases)`, async () => {
    const problems: string[] = [];
    for (const c of group) problems.push(...(await checkCase(c)));
    expect(problems).toEqual([]);
  });
});
