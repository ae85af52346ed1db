// What the demo shows, as text: a snapshot of the cluster (Cluster, TalosControlPlane, Machines,
// etcd members) as three aligned tables, the workload Nodes as `kubectl get nodes` prints them,
// and how a frame replaces the previous one on a terminal.
import type { Condition } from '../src/api/meta';
import type { Cluster, Machine } from '../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../src/api/controlplane/v1beta1/types';
import type { KubeObject } from '../src/kube/meta/object';

export interface EtcdMemberView {
  hostname: string;
  isLearner: boolean;
}

export interface Snapshot {
  cluster?: Cluster;
  controlPlane?: TalosControlPlane;
  machines: Machine[];
  /** undefined: not known yet (etcd not bootstrapped, or no control-plane node answers). */
  etcdMembers?: EtcdMemberView[];
}

export interface NodeObject extends KubeObject {
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

/** Columns left-aligned, three spaces apart, as kubectl's tables. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('   ')).join('\n');
}

const conditionStatus = (conditions: Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type)?.status ?? '-';
const count = (value: number | undefined) => String(value ?? 0);

function etcdRole(machine: Machine, members: EtcdMemberView[] | undefined): string {
  const names = [machine.metadata.name, machine.status?.nodeRef?.name];
  const member = members?.find((m) => names.includes(m.hostname));
  if (!member) return '-';
  return member.isLearner ? 'learner' : 'member';
}

/**
 * The snapshot as three tables (cluster, control plane, machines), each a list of lines, header
 * first; the same snapshot always gives the same lines.
 */
export function snapshotTables(snapshot: Snapshot): string[][] {
  const { cluster, controlPlane, machines, etcdMembers } = snapshot;
  const clusterTable = formatTable(['CLUSTER', 'PHASE', 'CP INITIALIZED', 'CP AVAILABLE', 'WORKERS AVAILABLE'], cluster ? [[
    cluster.metadata.name ?? '', cluster.status?.phase ?? '-',
    conditionStatus(cluster.status?.conditions, 'ControlPlaneInitialized'), conditionStatus(cluster.status?.conditions, 'ControlPlaneAvailable'),
    conditionStatus(cluster.status?.conditions, 'WorkersAvailable'),
  ]] : []);
  const status = controlPlane?.status;
  const controlPlaneTable = formatTable(['CONTROL PLANE', 'REPLICAS', 'READY', 'UPDATED', 'VERSION', 'ETCD MEMBERS'], controlPlane ? [[
    controlPlane.metadata.name ?? '', `${count(status?.replicas)}/${controlPlane.spec.replicas ?? 1}`, count(status?.readyReplicas),
    count(status?.upToDateReplicas), status?.version ?? controlPlane.spec.version, etcdMembers ? String(etcdMembers.length) : '-',
  ]] : []);
  // While the control plane is not Available, its condition says what it waits for.
  const available = status?.conditions?.find((c) => c.type === 'Available');
  const waiting = available && available.status !== 'True' && available.message ? [`  ${available.message}`] : [];
  const machineRows = [...machines]
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))
    .map((m) => [
      m.metadata.name ?? '', m.status?.phase ?? '-', conditionStatus(m.status?.conditions, 'Ready'),
      m.spec.version ?? '-', m.status?.nodeRef?.name ?? '-', etcdRole(m, etcdMembers),
    ]);
  const machineTable = formatTable(['MACHINE', 'PHASE', 'READY', 'VERSION', 'NODE', 'ETCD'], machineRows);
  return [clusterTable.split('\n'), [...controlPlaneTable.split('\n'), ...waiting], machineTable.split('\n')];
}

/** The tables one after the other, a blank line between. */
export const frameOf = (tables: string[][]) => tables.map((lines) => lines.join('\n')).join('\n\n');

/** Of each table, the lines that were not in the previous one, under the table's header; tables with none left out. */
export function changedTables(previous: string[][], next: string[][]): string[][] {
  return next.flatMap((lines, i) => {
    const before = new Set(previous[i] ?? []);
    const changed = lines.slice(1).filter((line) => !before.has(line));
    return changed.length > 0 ? [[lines[0]!, ...changed]] : [];
  });
}

/** The demo is done when the Cluster's control plane is Available and every Machine it expects runs, Ready, with a Node. */
export function isReady(snapshot: Snapshot, expectedMachines: number): boolean {
  const cpAvailable = snapshot.cluster?.status?.conditions?.some((c) => c.type === 'ControlPlaneAvailable' && c.status === 'True') ?? false;
  const running = snapshot.machines.filter((m) =>
    !m.metadata.deletionTimestamp && m.status?.phase === 'Running' && m.status.nodeRef && conditionStatus(m.status.conditions, 'Ready') === 'True');
  return cpAvailable && snapshot.machines.length === expectedMachines && running.length === expectedMachines;
}

/** A duration in the units kubectl's AGE column uses (45s, 3m12s, 15m, 4h5m, 30h, 3d), to the precision the demo needs. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) => (small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`);
  if (s < 120) return `${s}s`;
  if (m < 10) return pair(m, 'm', s % 60, 's');
  if (m < 180) return `${m}m`;
  if (h < 8) return pair(h, 'h', m % 60, 'm');
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';

function nodeStatus(node: NodeObject): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const status = ready === 'True' ? 'Ready' : ready === 'False' ? 'NotReady' : 'Unknown';
  return node.spec?.unschedulable ? `${status},SchedulingDisabled` : status;
}

function nodeRoles(node: NodeObject): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((label) => label.startsWith(ROLE_LABEL_PREFIX) && label.length > ROLE_LABEL_PREFIX.length)
    .map((label) => label.slice(ROLE_LABEL_PREFIX.length))
    .sort();
  return roles.length > 0 ? roles.join(',') : '<none>';
}

/** Nodes as `kubectl get nodes` prints them (NAME STATUS ROLES AGE VERSION), by name. */
export function nodesTable(nodes: NodeObject[], now: number): string {
  const rows = [...nodes]
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))
    .map((node) => {
      const created = Date.parse(node.metadata.creationTimestamp ?? '');
      const age = Number.isFinite(created) ? humanDuration((now - created) / 1000) : '<unknown>';
      return [node.metadata.name ?? '', nodeStatus(node), nodeRoles(node), age, node.status?.nodeInfo?.kubeletVersion ?? ''];
    });
  return formatTable(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'], rows);
}

/**
 * What a terminal is sent to show `frame` in place of the previous one, `previousLines` lines high:
 * the cursor goes back up and clears to the end of the screen.
 */
export function redraw(frame: string, previousLines: number): string {
  return previousLines > 0 ? `\x1b[${previousLines}A\x1b[J${frame}\n` : `${frame}\n`;
}
