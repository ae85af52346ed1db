// npm run bench:controlplane -- [--runs N] [--keep]
//
// In a world of its own (test bed, Cluster API core, simulated infrastructure, our operator from the
// sources), per run and in a new namespace: a 3-replica TalosControlPlane cluster from apply to the
// TCP's readyReplicas 3 and ready, then a rolling upgrade of its 3 Machines (v1.34.1 → v1.35.0,
// maxSurge 1) until settled, then the same kind of change (v1.35.0 → v1.35.1) with the InPlace
// strategy, on the running nodes, until settled, then Talos itself upgraded in place (the nodes
// come up at Talos 1.13.5; the installer image patch moves to 1.14.2: each node pulls, installs,
// is drained and rebooted in turn) until settled, then a remediation: a node stopped under a
// MachineHealthCheck until its replacement is Ready and the remediation closed. Each time is printed
// next to the floor for the same work, read from what the simulator and Cluster API did in that run
// (see floorUp / floorUpgrade / floorInPlace / floorTalosInPlace / floorRemediation), with the
// operator's CPU time and API requests (its /metrics) and its peak RSS (/proc) per phase.
// --runs N repeats the cluster (the previous one deleted first) and prints min/median;
// --keep leaves the world up and prints how to bring it down.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterKind } from '../src/api/capi/v1beta2/resources';
import type { Cluster, Machine } from '../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../src/api/controlplane/v1alpha3/types';
import type { EtcdSample, SimNode } from '../test/support/talos-sim';
import { countersSince, operatorCounters, operatorNodeProcess, RssSampler, type OperatorCounters } from '../test/support/process-watch';
import { ControlPlaneProbe } from '../test/e2e/controlplane-fixtures';
import { coveredMs, MachineTimeline, type Span } from '../test/support/machine-timeline';
import {
  conditionOf, createClusterWithControlPlane, createNamespace, eventually, installerImagePatch, KUBERNETES_VERSION, MachineHealthCheckKind, workloadClient, world, type World,
} from '../test/e2e/world-fixtures';
import { INSTALLED_IMAGE_ANNOTATION } from '../src/controlplane/installer';
import { REMEDIATION_IN_PROGRESS_ANNOTATION } from '../src/controlplane/remediation';
import { NodeKind } from '../src/kube/client/resource';
import { IN_PLACE, ROLLOUT_STRATEGY_ANNOTATION } from '../src/api/controlplane/group';
import { TalosControlPlaneKind } from '../test/e2e/world-fixtures';
import type { KubeObject } from '../src/kube/meta/object';
import { startWorldOperator } from '../test/world/operator';
import { readWorld, startWorld, stopWorld, worldFile } from '../test/world/world';

const REPLICAS = 3;
const UPGRADE_TO = 'v1.35.0';
const IN_PLACE_TO = 'v1.35.1';
/** The Talos installer the nodes come up with, and the one the Talos phase upgrades them to. */
const TALOS_FROM = 'ghcr.io/siderolabs/installer:v1.13.5';
const TALOS_TO = 'ghcr.io/siderolabs/installer:v1.14.2';
const tagOf = (image: string) => image.slice(image.lastIndexOf(':') + 1);
const CLUSTER = 'bench';
const POLL_MS = 200;
/** The MachineHealthCheck's timeout on an unready Node in the remediation phase. */
const MHC_TIMEOUT_S = 10;

interface Options {
  runs: number;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : 1;
  if (!(Number.isInteger(runs) && runs > 0)) throw new Error('--runs needs a whole number above 0');
  return { runs, keep: argv.includes('--keep') };
}

const seconds = (ms: number) => ms / 1000;
const fmt = (s: number) => `${s.toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The simulator's first boot of a node: its first event to its first MachineStatusEvent RUNNING. */
function bootSeconds(node: SimNode): number {
  const events = node.events ?? [];
  const running = events.find((e) => e.type === 'machine.MachineStatusEvent' && (e.data as { stage?: string } | undefined)?.stage === 'RUNNING');
  if (!running || events.length === 0) throw new Error(`node ${node.id} has no RUNNING event in the simulator`);
  return seconds(Date.parse(running.at) - Date.parse(events[0]!.at));
}

/** "a + b + c = total s", to the millisecond. */
const sum = (boots: number[]) => `${boots.map((b) => b.toFixed(3)).join(' + ')} = ${boots.reduce((a, b) => a + b, 0).toFixed(3)} s`;

interface Floor {
  seconds: number;
  how: string;
}


const spanSum = (spans: readonly Span[]) => `${spans.map(([s, e]) => seconds(e - s).toFixed(1)).join(' + ') || '0'} s`;

/**
 * Bring-up: nothing can be created before Cluster API and the infrastructure give the Cluster its
 * endpoint (apply → InfrastructureReady, 1 s resolution). Then the Machines come one at a time:
 * the next once the previous one's etcd member is up and its Node registered (what the preflight
 * checks wait for; see readyForNextChangeAt), and the control plane is Ready when it counts the
 * last one's Node Ready. Those spans
 * (seen by the 200 ms poll, overlaps once) are work the provider waits out: the floor.
 */
function floorUp(boots: number[], timeline: MachineTimeline, readyAt: ReadonlyMap<string, number>, appliedAt: number, provisionedAt: number): Floor {
  const serial = boots.reduce((a, b) => a + b, 0);
  const infrastructure: Span = [appliedAt, Math.max(appliedAt, provisionedAt)];
  const machines = timeline.newMachineSpans(readyAt, 'counted');
  const covered = seconds(coveredMs([infrastructure, ...machines]));
  return {
    seconds: Math.max(serial, covered),
    how: `max(Σ serial boots ${sum(boots)}, time covered by apply → infrastructure provisioned (${spanSum([infrastructure])}), ` +
      `each Machine appearing → its etcd member up and its Node registered, the last → counted Ready (${spanSum(machines)}), overlaps once = ${covered.toFixed(1)} s)`,
  };
}

/**
 * Upgrade with maxSurge 1: a new Machine, then (once its etcd member joined and its Node is
 * registered) an old one deleted, then the next. The spans the provider must wait out: each new
 * Machine appearing → that moment (the last: → every new Machine Ready), each old one deleting → gone (Cluster API
 * drains and deletes). Their time (overlaps once) is the floor; the rest is the provider's.
 */
function floorUpgrade(boots: number[], timeline: MachineTimeline, readyAt: ReadonlyMap<string, number>): Floor {
  return floorOfReplacements(boots, timeline, readyAt, []);
}

/**
 * Remediation: what the provider must wait out is the node's death → its Machine marked by the
 * MachineHealthCheck (the workload cluster's node monitor, then the check's timeout), and as in an
 * upgrade the replacement appearing → its etcd member up and Node registered → Ready, and the
 * victim deleting → gone. Taking the dead member out of etcd, deleting the Machine and creating
 * the replacement are the provider's.
 */
function floorRemediation(boots: number[], timeline: MachineTimeline, readyAt: ReadonlyMap<string, number>, stoppedAt: number, markedAt: number): Floor {
  return floorOfReplacements(boots, timeline, readyAt, [['node stopped → Machine marked by the MachineHealthCheck', [[stoppedAt, markedAt]]]]);
}

/** The floor of Machines replaced: `before` spans, new Machines appearing → ready for the next change (the last → all Ready), old ones deleting → gone. */
function floorOfReplacements(boots: number[], timeline: MachineTimeline, readyAt: ReadonlyMap<string, number>, before: Array<[string, Span[]]>): Floor {
  const machines = timeline.newMachineSpans(readyAt, 'machine');
  const deletions = timeline.deletions();
  const covered = seconds(coveredMs([...before.flatMap(([, spans]) => spans), ...machines, ...deletions]));
  const serial = boots.reduce((a, b) => a + b, 0);
  const first = before.map(([label, spans]) => `${label} (${spanSum(spans)}), `).join('');
  return {
    seconds: Math.max(covered, serial),
    how: `max(Σ serial boots ${sum(boots)}, time covered by ${first}new Machines appearing → etcd joined and Node registered, the last → all Ready (${spanSum(machines)}) ` +
      `and old ones deleting → gone (${spanSum(deletions)}), overlaps once = ${covered.toFixed(1)} s)`,
  };
}

/**
 * When the next change could start after each Machine, by Machine name: its etcd member up
 * (bootstrapped or joined, and running: the simulator's history) and its Node registered in the
 * workload cluster (creationTimestamp, 1 s resolution, so a little early) — the preflight checks
 * wait for both.
 */
async function readyForNextChangeAt(w: World, cp: ControlPlaneProbe, machines: Machine[]): Promise<Map<string, number>> {
  const nodes = new Map(await Promise.all(machines.map(async (m) => [await cp.nodeIdOf(m), m.metadata.name!] as const)));
  const history = await w.sim.etcdHistory([...nodes.keys()][0]!);
  const at = new Map<string, number>();
  for (const sample of history) {
    for (const member of sample.members) {
      const name = nodes.get(member.nodeId);
      if (name && member.up && !at.has(name)) at.set(name, Date.parse(sample.time));
    }
  }
  const workload = await workloadClient(w, cp.namespace, cp.cluster.metadata.name!);
  const byProviderId = new Map(machines.map((m) => [m.spec.providerID, m.metadata.name!]));
  for (const node of (await workload.list<KubeObject & { spec?: { providerID?: string } }>(NodeKind)).items) {
    const name = byProviderId.get(node.spec?.providerID);
    const registered = Date.parse(node.metadata.creationTimestamp ?? '');
    if (name && at.has(name) && registered > at.get(name)!) at.set(name, registered);
  }
  return at;
}

/**
 * In-place upgrade, one node at a time: what the provider waits out per node is its apply (the
 * simulator's kubelet restart) → its Node reporting the new kubelet version (the bench's poll);
 * pulling and applying are instant in the simulator. Serial, so the floor is their sum.
 */
function floorInPlace(nodes: readonly SimNode[], reportedAt: ReadonlyMap<string, number>, version: string): Floor {
  const spans = nodes.map((node): Span => {
    const restart = node.services?.find((s) => s.id === 'kubelet')?.events.find((e) => e.msg.startsWith('Restarting: kubelet image changed') && e.msg.endsWith(`:${version}`));
    const reported = reportedAt.get(node.hostname ?? '');
    if (!restart || reported === undefined) throw new Error(`node ${node.id}: no kubelet restart at ${version} or no Node reporting it`);
    return [Date.parse(restart.ts), Math.max(Date.parse(restart.ts), reported)];
  });
  const total = spans.reduce((sum, [start, end]) => sum + seconds(end - start), 0);
  return { seconds: total, how: `Σ per node apply (kubelet restart) → its Node reporting kubelet ${version} (${spanSum(spans)}; ${POLL_MS} ms poll) = ${total.toFixed(1)} s` };
}

/**
 * Talos upgraded in place, one node at a time: what the simulator must do per node is its reboot
 * into the new installer — down for its reboot downtime, then a boot at its boot delay until its
 * etcd member is up again (the history's `rebooting` → `started` samples of the member; the node
 * reports RUNNING in the same instant). Pulling and running the installer, the drain (no pods) and
 * handing off etcd leadership are instant in the simulator, and the nodes must go one after the
 * other (one member down at most), so the floor is the sum of the reboots.
 */
function floorTalosInPlace(history: readonly EtcdSample[], since: number, nodeIds: readonly string[]): Floor {
  const recent = history.filter((sample) => Date.parse(sample.time) >= since);
  const spans = nodeIds.map((id): Span => {
    const down = recent.findIndex((sample) => sample.event === 'rebooting' && sample.member.nodeId === id);
    const up = recent.findIndex((sample, i) => i > down && sample.event === 'started' && sample.member.nodeId === id);
    if (down < 0 || up < 0) throw new Error(`node ${id}: no reboot and return in the etcd history since the phase began`);
    return [Date.parse(recent[down]!.time), Date.parse(recent[up]!.time)];
  });
  const total = spans.reduce((sum, [start, end]) => sum + seconds(end - start), 0);
  return { seconds: total, how: `Σ per node reboot: etcd member down (rebooting) → up again (started) (${spans.map(([s, e]) => seconds(e - s).toFixed(3)).join(' + ')} s) = ${total.toFixed(3)} s` };
}

interface Phase {
  seconds: number;
  floor: Floor;
  /** Each Machine the phase ended with: seconds from its start to the Machine's creation and to its Ready. */
  timeline: string;
  counters: OperatorCounters;
  peakRss: number;
}

interface Run {
  up: Phase;
  upgrade: Phase;
  inPlace: Phase;
  talosInPlace: Phase;
  remediation: Phase;
  /** Cluster API connected to the workload cluster (RemoteConnectionProbe True), seconds after apply. */
  connectedAfter: number;
}

/** The operator as the benchmark watches it: counters from /metrics, RSS from /proc. */
interface Watched {
  metricsAddress: string;
  rss: RssSampler;
}

type PhaseResult = Pick<Phase, 'floor' | 'timeline'> & { ms: number };

async function measure(operator: Watched, work: () => Promise<PhaseResult>): Promise<Phase> {
  const before = await operatorCounters(operator.metricsAddress);
  operator.rss.startPhase();
  const { ms, ...result } = await work();
  const counters = countersSince(before, await operatorCounters(operator.metricsAddress));
  return { seconds: seconds(ms), ...result, counters, peakRss: operator.rss.phasePeak() };
}

/** "name +created → +Ready" per Machine, oldest first, in seconds after `since` (the objects' timestamps: 1 s resolution). */
function timeline(machines: Machine[], since: number): string {
  // A timestamp truncated to its second may fall before `since`: that is +0.
  const after = (at: string | undefined) => (at ? `+${Math.max(0, seconds(Date.parse(at) - since)).toFixed(0)}` : '?');
  return [...machines]
    .sort((a, b) => Date.parse(a.metadata.creationTimestamp!) - Date.parse(b.metadata.creationTimestamp!))
    .map((m) => `${m.metadata.name} ${after(m.metadata.creationTimestamp)} → ${after(conditionOf(m, 'Ready')?.lastTransitionTime)}`)
    .join(', ');
}

const isReady = (m: Machine) => conditionOf(m, 'Ready')?.status === 'True';

async function bootsOf(w: World, cp: ControlPlaneProbe, machines: Machine[]): Promise<number[]> {
  const nodes = await Promise.all(machines.map(async (m) => w.sim.inspect(await cp.nodeIdOf(m))));
  return nodes.map(bootSeconds);
}

async function oneRun(w: World, operator: Watched): Promise<{ run: Run; cluster: Cluster }> {
  const namespace = await createNamespace(w.client, 'bench-cp');
  let cp: ControlPlaneProbe | undefined;
  let appliedAt = 0;
  const up = await measure(operator, async () => {
    appliedAt = Date.now();
    const bringUp = new MachineTimeline();
    bringUp.observe([], appliedAt);
    cp = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, CLUSTER, REPLICAS, { configPatches: [installerImagePatch(TALOS_FROM)] }));
    const probe = cp;
    await eventually(`${probe.name} readyReplicas ${REPLICAS} and ready`, async () => {
      const [tcp, machines] = await Promise.all([probe.tcp(), probe.machines()]);
      const s = tcp.status;
      bringUp.observe(machines, Date.now(), s?.readyReplicas);
      return s?.readyReplicas === REPLICAS && s.ready === true;
    }, { timeoutMs: 300_000, intervalMs: POLL_MS });
    const ms = Date.now() - appliedAt;
    const cluster = await w.client.get<Cluster>(ClusterKind, namespace, CLUSTER);
    const provisioned = conditionOf(cluster, 'InfrastructureReady');
    if (provisioned?.status !== 'True' || !provisioned.lastTransitionTime) throw new Error('the Cluster has no InfrastructureReady True');
    const machines = await probe.machines();
    return {
      ms, floor: floorUp(await bootsOf(w, probe, machines), bringUp, await readyForNextChangeAt(w, probe, machines), appliedAt, Date.parse(provisioned.lastTransitionTime)), timeline: timeline(machines, appliedAt),
    };
  });
  const probe = cp!;
  const cluster = await w.client.get<Cluster>(ClusterKind, namespace, CLUSTER);
  const connected = conditionOf(cluster, 'RemoteConnectionProbe')?.lastTransitionTime;
  const connectedAfter = connected ? seconds(Date.parse(connected) - appliedAt) : Number.NaN;

  const upgrade = await measure(operator, async () => {
    const rollout = new MachineTimeline();
    rollout.observe(await probe.machines(), Date.now());
    const started = Date.now();
    await probe.patch({ version: UPGRADE_TO });
    const machines = await eventually(`${probe.name} settled at ${REPLICAS} × ${UPGRADE_TO}`, async () => {
      const [tcp, machines]: [TalosControlPlane, Machine[]] = await Promise.all([probe.tcp(), probe.machines()]);
      rollout.observe(machines, Date.now());
      const s = tcp.status;
      const settled = s?.observedGeneration === tcp.metadata.generation && s?.upToDateReplicas === REPLICAS && machines.length === REPLICAS &&
        machines.every((m) => m.spec.version === UPGRADE_TO && isReady(m) && !m.metadata.deletionTimestamp);
      return settled ? machines : undefined;
    }, { timeoutMs: 600_000, intervalMs: POLL_MS });
    return { ms: Date.now() - started, floor: floorUpgrade(await bootsOf(w, probe, machines), rollout, await readyForNextChangeAt(w, probe, machines)), timeline: timeline(machines, started) };
  });
  const inPlace = await measure(operator, async () => {
    const workload = await workloadClient(w, namespace, CLUSTER);
    await w.client.patch(TalosControlPlaneKind, namespace, probe.name, { metadata: { annotations: { [ROLLOUT_STRATEGY_ANNOTATION]: IN_PLACE } } }, 'merge');
    const before = await probe.machines();
    const reportedAt = new Map<string, number>();
    const started = Date.now();
    await probe.patch({ version: IN_PLACE_TO });
    const machines = await settledInPlace(probe, before, `${REPLICAS} × ${IN_PLACE_TO}`, (m) => m.spec.version === IN_PLACE_TO, async () => {
      for (const node of (await workload.list<KubeObject & { status?: { nodeInfo?: { kubeletVersion?: string } } }>(NodeKind)).items) {
        if (node.status?.nodeInfo?.kubeletVersion === IN_PLACE_TO && !reportedAt.has(node.metadata.name!)) reportedAt.set(node.metadata.name!, Date.now());
      }
    });
    const ms = Date.now() - started;
    const nodes = await Promise.all(machines.map(async (m) => w.sim.inspect(await probe.nodeIdOf(m))));
    return { ms, floor: floorInPlace(nodes, reportedAt, IN_PLACE_TO), timeline: timeline(machines, started) };
  });
  const talosInPlace = await measure(operator, async () => {
    const before = await probe.machines();
    const started = Date.now();
    await probe.upgradeTalosTo(TALOS_TO);
    const machines = await settledInPlace(probe, before, `Talos ${tagOf(TALOS_TO)}`, (m) => m.metadata.annotations?.[INSTALLED_IMAGE_ANNOTATION] === TALOS_TO);
    const ms = Date.now() - started;
    const nodeIds = await Promise.all(machines.map((m) => probe.nodeIdOf(m)));
    return { ms, floor: floorTalosInPlace(await w.sim.etcdHistory(nodeIds[0]!), started, nodeIds), timeline: timeline(machines, started) };
  });
  const remediation = await measure(operator, () => remediateOneNode(w, probe));
  return { run: { up, upgrade, inPlace, talosInPlace, remediation, connectedAfter }, cluster };
}

/**
 * Polls until the control plane counts its Machines up to date, all Ready and `upgraded` (`observe`
 * runs on every poll); one of `before` replaced is an error.
 */
async function settledInPlace(
  probe: ControlPlaneProbe, before: Machine[], target: string, upgraded: (m: Machine) => boolean, observe: () => Promise<void> = async () => undefined,
): Promise<Machine[]> {
  const machines = await eventually(`${probe.name} settled at ${target} in place`, async () => {
    const [tcp, machines] = await Promise.all([probe.tcp(), probe.machines(), observe()]);
    const s = tcp.status;
    const settled = s?.observedGeneration === tcp.metadata.generation && s?.upToDateReplicas === REPLICAS && machines.length === REPLICAS &&
      machines.every((m) => upgraded(m) && isReady(m));
    return settled ? machines : undefined;
  }, { timeoutMs: 300_000, intervalMs: POLL_MS });
  const uids = (list: Machine[]) => list.map((m) => m.metadata.uid).sort().join();
  if (uids(machines) !== uids(before)) throw new Error(`the in-place upgrade to ${target} replaced Machines`);
  return machines;
}

/** A MachineHealthCheck on the control plane, then one node stopped: until its replacement is Ready and the remediation closed. */
async function remediateOneNode(w: World, probe: ControlPlaneProbe): Promise<PhaseResult> {
  await w.client.create(MachineHealthCheckKind, {
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachineHealthCheck', metadata: { name: probe.name, namespace: probe.namespace },
    spec: {
      clusterName: CLUSTER,
      selector: { matchLabels: { 'cluster.x-k8s.io/control-plane': '' } },
      checks: { nodeStartupTimeoutSeconds: 600, unhealthyNodeConditions: [{ type: 'Ready', status: 'Unknown', timeoutSeconds: MHC_TIMEOUT_S }, { type: 'Ready', status: 'False', timeoutSeconds: MHC_TIMEOUT_S }] },
    },
  });
  const before = await eventually('every control-plane Machine checked healthy', async () => {
    const machines = await probe.machines();
    return machines.every((m) => conditionOf(m, 'HealthCheckSucceeded')?.status === 'True') ? machines : undefined;
  }, { timeoutMs: 120_000, intervalMs: POLL_MS });
  const victim = before[0]!;
  const observed = new MachineTimeline();
  observed.observe(before, Date.now());
  const stoppedAt = Date.now();
  await w.sim.stopNode(await probe.nodeIdOf(victim));
  let markedAt: number | undefined;
  const machines = await eventually(`${probe.name} remediated ${victim.metadata.name}`, async () => {
    const [tcp, machines] = await Promise.all([probe.tcp(), probe.machines()]);
    const now = Date.now();
    observed.observe(machines, now);
    const marked = machines.find((m) => m.metadata.name === victim.metadata.name && conditionOf(m, 'HealthCheckSucceeded')?.status === 'False');
    if (marked && markedAt === undefined) markedAt = now;
    const settled = tcp.status?.readyReplicas === REPLICAS && machines.length === REPLICAS && !machines.some((m) => m.metadata.name === victim.metadata.name) &&
      machines.every((m) => isReady(m) && !m.metadata.deletionTimestamp) && !(REMEDIATION_IN_PROGRESS_ANNOTATION in (tcp.metadata.annotations ?? {}));
    return settled ? machines : undefined;
  }, { timeoutMs: 300_000, intervalMs: POLL_MS });
  const ms = Date.now() - stoppedAt;
  if (markedAt === undefined) throw new Error(`Machine ${victim.metadata.name} was never seen marked by the MachineHealthCheck`);
  const replacements = machines.filter((m) => !before.some((b) => b.metadata.name === m.metadata.name));
  return { ms, floor: floorRemediation(await bootsOf(w, probe, replacements), observed, await readyForNextChangeAt(w, probe, machines), stoppedAt, markedAt), timeline: timeline(machines, stoppedAt) };
}

function requestsLine(counters: OperatorCounters): string {
  const entries = Object.entries(counters.requestsByMethod).filter(([, n]) => n > 0);
  if (Object.keys(counters.requestsByMethod).length === 0) return 'API requests not exported';
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return `API requests ${total} (${entries.map(([m, n]) => `${m} ${n}`).join(', ')})`;
}

function phaseLines(label: string, phase: Phase): string[] {
  return [
    `${label.padEnd(58)} ${fmt(phase.seconds).padStart(8)}   floor ${phase.floor.seconds.toFixed(phase.floor.seconds < 1 ? 3 : 1)} s   time/floor ${(phase.seconds / phase.floor.seconds).toFixed(2)}×`,
    `  floor = ${phase.floor.how}`,
    `  Machines created → Ready, s after the start (1 s resolution): ${phase.timeline}`,
    `  operator: CPU ${phase.counters.cpuSeconds.toFixed(2)} s, ${requestsLine(phase.counters)}, peak RSS ${mib(phase.peakRss)} (VmRSS every ${POLL_MS} ms)`,
  ];
}

function runLines(index: number, runs: number, run: Run, load: string): string[] {
  return [
    `run ${index + 1}/${runs}  (load average at start ${load})`,
    ...phaseLines(`bring-up: apply → TCP readyReplicas ${REPLICAS}, ready`, run.up),
    `  Cluster API connected to the workload cluster (RemoteConnectionProbe True) +${run.connectedAfter.toFixed(0)} s after apply`,
    ...phaseLines(`rolling upgrade ${KUBERNETES_VERSION} → ${UPGRADE_TO} (maxSurge 1): patch → settled`, run.upgrade),
    ...phaseLines(`in-place upgrade ${UPGRADE_TO} → ${IN_PLACE_TO} (InPlace): patch → settled`, run.inPlace),
    ...phaseLines(`in-place Talos upgrade ${tagOf(TALOS_FROM)} → ${tagOf(TALOS_TO)} (InPlace): patch → settled`, run.talosInPlace),
    ...phaseLines(`remediation (MachineHealthCheck ${MHC_TIMEOUT_S} s): node stopped → replacement Ready`, run.remediation),
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function summaryLines(runs: Run[]): string[] {
  const row = (label: string, values: number[], unit: string, digits = 1) =>
    `${label.padEnd(34)} min ${Math.min(...values).toFixed(digits)}${unit}  median ${median(values).toFixed(digits)}${unit}`;
  const requests = (p: Phase) => Object.values(p.counters.requestsByMethod).reduce((a, b) => a + b, 0);
  const phases: [string, (run: Run) => Phase][] = [
    ['bring-up', (r) => r.up], ['rolling upgrade', (r) => r.upgrade], ['in-place upgrade', (r) => r.inPlace], ['in-place Talos upgrade', (r) => r.talosInPlace],
    ['remediation', (r) => r.remediation],
  ];
  return [
    `over ${runs.length} runs`,
    ...phases.flatMap(([label, phaseOf]) => {
      const measured = runs.map(phaseOf);
      return [
        row(label, measured.map((p) => p.seconds), ' s'),
        row(`${label} time/floor`, measured.map((p) => p.seconds / p.floor.seconds), '×', 2),
        row(`${label} operator CPU`, measured.map((p) => p.counters.cpuSeconds), ' s', 2),
        row(`${label} API requests`, measured.map(requests), '', 0),
      ];
    }),
  ];
}

/** Deletes a run's cluster and waits until it is gone, so that the next run has the world to itself. */
async function deleteCluster(w: World, cluster: Cluster): Promise<void> {
  const { namespace, name } = cluster.metadata;
  await w.client.delete(ClusterKind, namespace!, name!);
  await eventually(`Cluster ${namespace}/${name} gone`, async () => !(await w.client.get(ClusterKind, namespace!, name!).then(() => true, () => false)), {
    timeoutMs: 300_000, intervalMs: 1000,
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'talos-capi-bench-cp-'));
  const bringDown = async () => {
    if (options.keep) {
      process.stdout.write(`world kept in ${dir}: npm run testbed -- down --dir ${dir}\n`);
      return;
    }
    await stopWorld(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= bringDown());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stop().then(() => process.exit(130)));
  }

  try {
    const worldStarted = Date.now();
    const state = await startWorld({ dir, operator: false });
    const started = await startWorldOperator({ dir, kubeconfig: state.kubeconfig });
    // Recorded with the world, so that stopping the world (here or `testbed down`) stops it too.
    writeFileSync(worldFile(dir), JSON.stringify({ ...readWorld(dir), operator: started }, null, 2));
    const pid = operatorNodeProcess(started.process.pid);
    const operator: Watched = { metricsAddress: started.metricsAddress, rss: new RssSampler(pid, POLL_MS) };
    process.env.WORLD_DIR = dir;
    const w = world();
    process.stdout.write(`bench:controlplane  runs=${options.runs}  world and operator up in ${fmt(seconds(Date.now() - worldStarted))}  operator pid ${pid} (node ${process.version})\n`);

    const runs: Run[] = [];
    for (let i = 0; i < options.runs; i++) {
      const load = loadavg();
      const { run, cluster } = await oneRun(w, operator);
      runs.push(run);
      process.stdout.write(runLines(i, options.runs, run, load).join('\n') + '\n');
      if (i < options.runs - 1) await deleteCluster(w, cluster);
    }
    const summary = options.runs > 1 ? summaryLines(runs) : [];
    process.stdout.write([...summary, `operator peak RSS over the whole run ${mib(operator.rss.lifetimePeak())} (VmHWM or the highest sample)`, `load average at end ${loadavg()}`].join('\n') + '\n');
    operator.rss.stop();
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:controlplane: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
