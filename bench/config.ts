// npm run bench:config — how fast the Talos config engine renders, and whether bundle
// generation keeps the event loop free (RSA-4096 runs on the thread pool).
//
// Prints: configs rendered per second (existing bundle; plain and with a 10-patch strategic
// corpus), bundle generation time, event-loop max block while generating, and peak RSS.

import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  generateSecretsBundle,
  parseContract,
  renderMachineConfig,
  type RenderInput,
  type SecretsBundle,
} from '../src/talos/config';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const BUNDLE_RUNS = Number(process.env.BENCH_BUNDLE_RUNS ?? 5);

/** Ten strategic patches of the kinds users write, for contract 1.14. */
const STRATEGIC_CORPUS = [
  'apiVersion: v1alpha1\nkind: TimeSyncConfig\nntp:\n  servers: [time.cloudflare.com]\n',
  'apiVersion: v1alpha1\nkind: KubeletConfig\nextraArgs:\n  rotate-server-certificates: "true"\n',
  'apiVersion: v1alpha1\nkind: SysctlConfig\nparams:\n  net.core.somaxconn: "65535"\n  vm.max_map_count: "262144"\n',
  'machine:\n  install:\n    disk: /dev/sda\n    image: ghcr.io/siderolabs/installer:v1.14.1\n',
  'apiVersion: v1alpha1\nkind: KubeNodeConfig\nlabels:\n  topology.kubernetes.io/zone: zone-a\n',
  'apiVersion: v1alpha1\nkind: ResolverConfig\nnameservers:\n  - address: 1.1.1.1\n  - address: 8.8.8.8\n',
  'apiVersion: v1alpha1\nkind: KubeAPIServerConfig\nextraArgs:\n  feature-gates: ServerSideApply=true\n',
  'apiVersion: v1alpha1\nkind: KubeNodeConfig\nlabels:\n  topology.kubernetes.io/zone:\n    $patch: delete\n',
  'apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nmtu: 9000\n',
  'apiVersion: v1alpha1\nkind: KubeSpanConfig\nenabled: true\n',
];

function renderRate(input: RenderInput): { perSecond: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    bytes = renderMachineConfig(input).length;
    count++;
  }
  return { perSecond: count / ((performance.now() - start) / 1000), bytes };
}

interface BundleTimings {
  times: number[];
  /** Longest event-loop block during the first generation (includes loading the crypto code). */
  coldMaxBlockMs: number;
  /** Longest event-loop block during the following generations. */
  warmMaxBlockMs: number;
  bundle: SecretsBundle;
}

async function bundleTimings(): Promise<BundleTimings> {
  const contract = parseContract('v1.14');
  const times: number[] = [];
  const maxBlocks: number[] = [];
  let bundle: SecretsBundle | undefined;
  for (let i = 0; i < BUNDLE_RUNS; i++) {
    // The histogram records delays beyond its resolution: how long the loop could not run.
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const start = performance.now();
    bundle = await generateSecretsBundle({ contract });
    times.push(performance.now() - start);
    histogram.disable();
    maxBlocks.push(histogram.max / 1e6);
  }
  if (!bundle) throw new Error('no bundle generated');
  return { times, coldMaxBlockMs: maxBlocks[0] ?? 0, warmMaxBlockMs: Math.max(...maxBlocks.slice(1), 0), bundle };
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

async function mainBench(): Promise<void> {
  const { times, coldMaxBlockMs, warmMaxBlockMs, bundle } = await bundleTimings();
  const sorted = [...times].sort((a, b) => a - b);
  const base: RenderInput = {
    clusterName: 'bench',
    endpoint: 'https://10.0.0.1:6443',
    kubernetesVersion: '1.37.0',
    contract: parseContract('v1.14'),
    bundle,
    machineType: 'controlplane',
  };
  const legacy = renderRate({ ...base, contract: parseContract('v1.13') });
  const plain = renderRate(base);
  const patched = renderRate({ ...base, patches: { strategicPatches: STRATEGIC_CORPUS } });
  const rssMb = process.resourceUsage().maxRSS / 1024;

  const lines = [
    `configs rendered/s, existing bundle, v1.13 controlplane (1 doc + HostnameConfig): ${fmt(legacy.perSecond, 0)}  (${legacy.bytes} bytes each)`,
    `configs rendered/s, existing bundle, v1.14 controlplane (28 documents):          ${fmt(plain.perSecond, 0)}  (${plain.bytes} bytes each)`,
    `configs rendered/s, v1.14 controlplane + 10-patch strategic corpus:             ${fmt(patched.perSecond, 0)}  (${patched.bytes} bytes each)`,
    `secrets bundle generation (v1.14, RSA-4096 SA key), ${BUNDLE_RUNS} runs: min ${fmt(sorted[0] ?? 0, 0)} ms, median ${fmt(sorted[Math.floor(sorted.length / 2)] ?? 0, 0)} ms, max ${fmt(sorted.at(-1) ?? 0, 0)} ms`,
    `event loop max block during bundle generation: ${fmt(warmMaxBlockMs)} ms (first run, loading the crypto code: ${fmt(coldMaxBlockMs)} ms)`,
    `peak RSS: ${fmt(rssMb)} MB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

mainBench().catch((err: unknown) => {
  process.stderr.write(`bench:config failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
