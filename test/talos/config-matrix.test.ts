// The config matrix (test/talos/matrix.ts): for every case our engine and
// Talos's own library (through the oracle) render a machine config from the
// same inputs and the same secrets bundle. Where Talos produces a config, ours
// must be semantically equal (documents parsed and compared deep-equal) and
// pass Talos's strict validation in the modes the case names; where Talos
// refuses, ours must refuse too in strict-RFC-6902 mode, and whatever our
// default (more lenient) mode produces must still be a config Talos accepts.
// Prints one summary line with the counts.
import { parseAllDocuments } from 'yaml';
import {
  encodeSecretsBundle,
  generateSecretsBundle,
  loadSecretsBundle,
  parseContract,
  renderMachineConfig,
  type ApplyPatchesOptions,
  type SecretsBundle,
} from '../../src/talos/config';
import { ORACLE_BUILD_TIMEOUT_MS, OracleError, TalosOracle, type GenConfigParams } from '../support/talos-oracle';
import { compareConfigs, describeDifferences } from './config-compare';
import { buildMatrix, contractMinor, CONTRACTS, MACHINE_TYPES, type ConfigCase, type Contract } from './matrix';

const NOW = '2026-01-01T00:00:00Z';
const cases = buildMatrix();

/** Talos's JSON6902 semantics exactly: `add` needs an existing parent. */
const STRICT_RFC6902: ApplyPatchesOptions = { createMissingParents: false };

/** A secrets bundle in both forms, and who made it. */
interface SharedBundle {
  madeBy: 'ours' | 'talos';
  yaml: string;
  ours: SecretsBundle;
}

let oracle: TalosOracle;
/** Per service-account key type (ECDSA up to contract 1.6, RSA-4096 from 1.7), one bundle made by each side. */
const bundles: Record<'ecdsa' | 'rsa', SharedBundle[]> = { ecdsa: [], rsa: [] };

const tally = { cases: 0, configs: 0, semanticallyEqual: 0, byteIdentical: 0, refusalsAgreed: 0, beyondTalosValid: 0 };

async function bundlesFor(talosVersion: string): Promise<SharedBundle[]> {
  const ours = await generateSecretsBundle({ contract: parseContract(talosVersion), now: new Date(NOW) });
  const talosYaml = await oracle.genSecrets({ talosVersion, now: NOW });
  return [
    { madeBy: 'ours', yaml: encodeSecretsBundle(ours), ours },
    { madeBy: 'talos', yaml: talosYaml, ours: loadSecretsBundle(talosYaml) },
  ];
}

beforeAll(async () => {
  oracle = await TalosOracle.start();
  bundles.ecdsa = await bundlesFor('v1.6');
  bundles.rsa = await bundlesFor('v1.14');
}, ORACLE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await oracle?.close();
  process.stdout.write(
    `config matrix: ${tally.cases} cases — ${tally.configs} configs: ${tally.semanticallyEqual} semantically equal, ` +
      `${tally.byteIdentical} byte-identical; ${tally.refusalsAgreed} refusals agreed ` +
      `(${tally.beyondTalosValid} of them rendered by our lenient RFC 6902 mode into configs Talos accepts)\n`,
  );
});

/** Alternates the bundle's maker across cases, so both directions are exercised everywhere. */
function bundleFor(contract: Contract, index: number): SharedBundle {
  const pair = contractMinor(contract) <= 6 ? bundles.ecdsa : bundles.rsa;
  const bundle = pair[index % 2];
  if (!bundle) throw new Error('bundles not generated');
  return bundle;
}

function talosParams(c: ConfigCase, bundle: SharedBundle): GenConfigParams {
  return {
    clusterName: c.clusterName,
    endpoint: c.input.endpoint,
    kubernetesVersion: c.kubernetesVersion,
    talosVersion: c.contract,
    machineType: c.machineType,
    dnsDomain: c.input.dnsDomain,
    podCIDRs: c.input.podCIDRs,
    serviceCIDRs: c.input.serviceCIDRs,
    bundle: bundle.yaml,
    hostname: c.input.hostname?.value,
    configPatches: c.configPatches,
    strategicPatches: c.strategicPatches,
  };
}

type Outcome = { config: string } | { error: string };

async function talosOutcome(c: ConfigCase, bundle: SharedBundle): Promise<Outcome> {
  try {
    return { config: await oracle.genConfig(talosParams(c, bundle)) };
  } catch (err) {
    if (err instanceof OracleError) return { error: err.talosMessage };
    throw err;
  }
}

function ourOutcome(c: ConfigCase, bundle: SharedBundle, patchOptions?: ApplyPatchesOptions): Outcome {
  try {
    return {
      config: renderMachineConfig({
        clusterName: c.clusterName,
        endpoint: c.input.endpoint,
        kubernetesVersion: c.kubernetesVersion,
        contract: parseContract(c.contract),
        bundle: bundle.ours,
        machineType: c.machineType,
        dnsDomain: c.input.dnsDomain,
        podCIDRs: c.input.podCIDRs,
        serviceCIDRs: c.input.serviceCIDRs,
        hostname: c.input.hostname?.value,
        patches: { jsonPatches: c.configPatches, strategicPatches: c.strategicPatches },
        patchOptions,
      }),
    };
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/**
 * A config whose machine.install names no disk cannot be installed to bare metal, whoever made
 * it (Talos's own generator leaves the disk out too): metal mode applies only to configs that
 * could install.
 */
function installable(config: string): boolean {
  const v1alpha1 = parseAllDocuments(config).map((d) => d.toJS() as { version?: string; machine?: { install?: { disk?: string; diskSelector?: unknown } } }).find((d) => d?.version === 'v1alpha1');
  const install = v1alpha1?.machine?.install;
  return !install || Boolean(install.disk || install.diskSelector);
}

/** Talos's verdict on a config in each of the case's modes; empty when valid everywhere. */
async function validationProblems(c: ConfigCase, config: string, whose: string): Promise<string[]> {
  const problems: string[] = [];
  const modes = installable(config) ? c.validation.modes : c.validation.modes.filter((mode) => mode !== 'metal');
  for (const mode of modes) {
    const result = await oracle.validate({ config, mode, strict: c.validation.strict });
    if (!result.valid) problems.push(`${c.name}: ${whose} config invalid in ${mode} mode: ${result.errors.join('; ')}`);
  }
  return problems;
}

async function checkRefusal(c: ConfigCase, bundle: SharedBundle, talos: Outcome): Promise<string[]> {
  if ('config' in talos) return [`${c.name}: Talos accepted a case the matrix expects it to refuse`];
  const strict = ourOutcome(c, bundle, STRICT_RFC6902);
  if ('config' in strict) return [`${c.name}: Talos refuses (${talos.error}) but ours (strict RFC 6902) renders a config`];
  tally.refusalsAgreed++;
  // Our default mode may go beyond Talos (e.g. create missing parents); its output must still be acceptable to Talos.
  const lenient = ourOutcome(c, bundle);
  if ('error' in lenient) return [];
  const problems = await validationProblems(c, lenient.config, 'our lenient');
  if (problems.length === 0) tally.beyondTalosValid++;
  return problems;
}

/** Problems with one case; empty when it behaves as it should. */
async function checkCase(c: ConfigCase, index: number): Promise<string[]> {
  tally.cases++;
  const bundle = bundleFor(c.contract, index);
  const talos = await talosOutcome(c, bundle);
  if (c.expect === 'error') return checkRefusal(c, bundle, talos);

  if ('error' in talos) return [`${c.name}: Talos refused it: ${talos.error}`];
  tally.configs++;
  const ours = ourOutcome(c, bundle);
  if ('error' in ours) return [`${c.name} (bundle by ${bundle.madeBy}): ours failed: ${ours.error}`];

  const comparison = compareConfigs(ours.config, talos.config);
  if (comparison.byteIdentical) tally.byteIdentical++;
  if (!comparison.semanticallyEqual) return [describeDifferences(`${c.name} (bundle by ${bundle.madeBy})`, comparison)];
  tally.semanticallyEqual++;
  // Semantically equal configs validate alike, but validating ours is the claim, so check it directly.
  return validationProblems(c, ours.config, 'our');
}

describe.each(CONTRACTS.flatMap((contract) => MACHINE_TYPES.map((type) => [contract, type] as const)))('%s %s', (contract, type) => {
  const group = cases.map((c, index) => ({ c, index })).filter(({ c }) => c.contract === contract && c.machineType === type);

  test(`ours matches Talos (${group.length} cases)`, async () => {
    const problems: string[] = [];
    for (const { c, index } of group) problems.push(...(await checkCase(c, index)));
    // Thrown as text so the diffs read plainly instead of as an escaped string.
    if (problems.length > 0) throw new Error(`${problems.length} problem(s):\n\n${problems.join('\n\n')}`);
    expect(problems).toHaveLength(0);
  });
});
