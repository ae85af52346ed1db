// Widespread configPatches put settings where Talos does not have them (they
// circulate in guides, including the documents this project started from).
// Talos's strict loader rejects the result, so a CR that worked as intended
// elsewhere would never boot. Each known case is moved to the place Talos reads
// it from, and every move is reported to the user. The moves work on the
// v1alpha1 document the patches produce, whatever shape of patch put the
// setting there (`add /machine/kernel/args`, `add /machine/kernel` with
// `{args: [...]}`, a strategic patch …).
import type { YamlMap, YamlValue } from '../talos/config';

export interface Repaired {
  /** The document with the settings moved; the one given when nothing moved. */
  document: YamlMap;
  /** One line per move, for Events and logs. */
  notes: string[];
}

export interface CompatOptions {
  /**
   * The generated config sets machine.install.grubUseUKICmdline (contracts 1.12+), which Talos
   * refuses together with extraKernelArgs: moved kernel args must turn it off.
   */
  grubUseUKICmdline?: boolean;
}

const isMap = (value: YamlValue | undefined): value is YamlMap => typeof value === 'object' && value !== null && !Array.isArray(value);
const mapAt = (parent: YamlMap, key: string): YamlMap => {
  const found = parent[key];
  if (isMap(found)) return found;
  const created: YamlMap = {};
  parent[key] = created;
  return created;
};

/** machine.kernel.args → machine.install.extraKernelArgs (appended to any already there). */
function moveKernelArgs(machine: YamlMap, options: CompatOptions, notes: string[]): void {
  const kernel = machine.kernel;
  if (!isMap(kernel) || !Array.isArray(kernel.args)) return;
  const args = kernel.args;
  delete kernel.args;
  if (Object.keys(kernel).length === 0) delete machine.kernel;
  const install = mapAt(machine, 'install');
  install.extraKernelArgs = [...(Array.isArray(install.extraKernelArgs) ? install.extraKernelArgs : []), ...args];
  notes.push('/machine/kernel/args is not a Talos setting; moved to /machine/install/extraKernelArgs (kernel arguments of the installed system)');
  if (options.grubUseUKICmdline && install.grubUseUKICmdline !== false) {
    install.grubUseUKICmdline = false;
    notes.push('/machine/install/grubUseUKICmdline set to false, as Talos requires for extraKernelArgs');
  }
}

/** Per-interface nameservers → machine.network.nameservers, in order, once; set ones win. */
function hoistNameservers(machine: YamlMap, notes: string[]): void {
  const network = machine.network;
  if (!isMap(network) || !Array.isArray(network.interfaces)) return;
  const found: YamlValue[] = [];
  for (const device of network.interfaces) {
    if (!isMap(device) || !Array.isArray(device.nameservers)) continue;
    for (const server of device.nameservers) if (!found.includes(server)) found.push(server);
    delete device.nameservers;
  }
  if (found.length === 0) return;
  if (Array.isArray(network.nameservers) && network.nameservers.length > 0) {
    notes.push('interface nameservers dropped: /machine/network/nameservers is set and wins (Talos has no per-interface nameservers)');
    return;
  }
  network.nameservers = found;
  notes.push('interface nameservers moved to /machine/network/nameservers (Talos has no per-interface nameservers)');
}

/** Partitions with `format`: Talos formats user disk partitions itself (XFS) and has no such field. */
function dropPartitionFormat(machine: YamlMap, notes: string[]): void {
  if (!Array.isArray(machine.disks)) return;
  const dropped: string[] = [];
  for (const disk of machine.disks) {
    if (!isMap(disk) || !Array.isArray(disk.partitions)) continue;
    for (const partition of disk.partitions) {
      if (!isMap(partition) || !('format' in partition)) continue;
      dropped.push(String(partition.format));
      delete partition.format;
    }
  }
  if (dropped.length) notes.push(`partition format ${dropped.join(', ')} ignored (Talos formats user disk partitions with XFS and has no format field)`);
}

/** The cheap question first: most documents have none of the misplaced settings. */
function hasMisplacedSetting(machine: YamlMap): boolean {
  const { kernel, network, disks } = machine;
  if (isMap(kernel) && 'args' in kernel) return true;
  if (isMap(network) && Array.isArray(network.interfaces) && network.interfaces.some((d) => isMap(d) && 'nameservers' in d)) return true;
  return Array.isArray(disks) && disks.some((d) => isMap(d) && Array.isArray(d.partitions) && d.partitions.some((p) => isMap(p) && 'format' in p));
}

/**
 * Moves the known misplaced settings of a v1alpha1 document (YAML form) to where Talos reads them.
 * Never changes `document`; returns it as is when nothing is misplaced.
 */
export function moveMisplacedSettings(document: YamlMap, options: CompatOptions = {}): Repaired {
  if (!isMap(document.machine) || !hasMisplacedSetting(document.machine)) return { document, notes: [] };
  const repaired = structuredClone(document);
  const machine = repaired.machine as YamlMap;
  const notes: string[] = [];
  moveKernelArgs(machine, options, notes);
  hoistNameservers(machine, notes);
  dropPartitionFormat(machine, notes);
  return { document: repaired, notes };
}
