// Widespread configPatches that put a setting where Talos does not have it
// (they circulate in guides, including the documents this project started
// from). Talos's strict loader rejects the result, so a CR that worked as
// intended elsewhere would never boot. Each known case is rewritten to the
// place Talos reads it from, and every rewrite is reported to the user.
import type { ConfigPatch } from '../api/bootstrap/spec';

export interface CompatResult {
  patches: ConfigPatch[];
  /** One line per rewrite, naming the patch index, for Events and logs. */
  notes: string[];
}

type Json = unknown;
const isMap = (value: Json): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);

const KERNEL_ARGS = /^\/machine\/kernel\/args(\/-|\/\d+)?$/;

/** Interfaces carrying `nameservers`: Talos reads them from machine.network.nameservers only. */
function hoistNameservers(interfaces: Json, found: string[]): Json {
  if (!Array.isArray(interfaces)) return interfaces;
  return interfaces.map((entry) => {
    if (!isMap(entry) || !Array.isArray(entry.nameservers)) return entry;
    const { nameservers, ...rest } = entry;
    for (const server of nameservers as Json[]) if (typeof server === 'string' && !found.includes(server)) found.push(server);
    return rest;
  });
}

/** Partitions with `format`: Talos formats user disk partitions itself (XFS) and has no such field. */
function dropPartitionFormat(disks: Json, dropped: string[]): Json {
  if (!Array.isArray(disks)) return disks;
  return disks.map((disk) => {
    if (!isMap(disk) || !Array.isArray(disk.partitions)) return disk;
    return {
      ...disk,
      partitions: disk.partitions.map((partition) => {
        if (!isMap(partition) || !('format' in partition)) return partition;
        const { format, ...rest } = partition;
        dropped.push(String(format));
        return rest;
      }),
    };
  });
}

export interface CompatOptions {
  /**
   * The generated config sets machine.install.grubUseUKICmdline (contracts 1.12+), which Talos
   * refuses together with extraKernelArgs: moved kernel args must turn it off.
   */
  grubUseUKICmdline?: boolean;
}

export function rewriteKnownMisplacements(patches: readonly ConfigPatch[], options: CompatOptions = {}): CompatResult {
  const out: ConfigPatch[] = [];
  const notes: string[] = [];
  const nameservers: string[] = [];
  let kernelArgsMoved = false;
  patches.forEach((patch, index) => {
    const adds = patch.op === 'add' || patch.op === 'replace';
    const kernelArgs = adds ? KERNEL_ARGS.exec(patch.path) : null;
    if (kernelArgs) {
      const path = `/machine/install/extraKernelArgs${kernelArgs[1] ?? ''}`;
      out.push({ ...patch, op: 'add', path });
      notes.push(`configPatches[${index}]: ${patch.path} is not a Talos setting; applied to ${path} (kernel arguments of the installed system)`);
      kernelArgsMoved = true;
      return;
    }
    if (!adds) {
      out.push(patch);
      return;
    }
    let value = patch.value;
    const before = nameservers.length;
    if (patch.path === '/machine/network/interfaces') value = hoistNameservers(value, nameservers);
    else if (/^\/machine\/network\/interfaces\/(\d+|-)$/.test(patch.path)) value = (hoistNameservers([value], nameservers) as Json[])[0];
    else if (patch.path === '/machine/network' && isMap(value) && Array.isArray(value.interfaces)) {
      value = { ...value, interfaces: hoistNameservers(value.interfaces, nameservers) };
    }
    if (nameservers.length > before) {
      notes.push(`configPatches[${index}]: interface nameservers moved to /machine/network/nameservers (Talos has no per-interface nameservers)`);
    }
    const dropped: string[] = [];
    if (patch.path === '/machine/disks') value = dropPartitionFormat(value, dropped);
    if (dropped.length) notes.push(`configPatches[${index}]: partition format ${dropped.join(', ')} ignored (Talos formats user disk partitions with XFS and has no format field)`);
    out.push(value === patch.value ? patch : { ...patch, value });
  });
  if (kernelArgsMoved && options.grubUseUKICmdline && !out.some((patch) => patch.path === '/machine/install/grubUseUKICmdline')) {
    out.push({ op: 'replace', path: '/machine/install/grubUseUKICmdline', value: false });
    notes.push('configPatches: machine.install.grubUseUKICmdline set to false, as Talos requires for extraKernelArgs');
  }
  // A patch that sets the nameservers explicitly wins over ones found on interfaces.
  const explicit = out.some((patch) => patch.path === '/machine/network/nameservers');
  if (nameservers.length && !explicit) out.push({ op: 'add', path: '/machine/network/nameservers', value: nameservers });
  return { patches: out, notes };
}
