// Loads our protos/ at runtime into a grpc-js client constructor for
// machine.MachineService.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

export const MACHINE_PROTO = 'machine/machine.proto';

/**
 * How wire messages become objects (see wire.ts): 64-bit integers as decimal
 * strings so member IDs stay exact, enums by name, defaults filled so a field
 * the server left at its zero value is still present, Any decoded by type.
 */
export const LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
  json: true,
};

/** protos/ of the repository or image: the nearest one above this file (src/ and dist/src/ both work). */
export function findProtoDir(start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'protos');
    if (existsSync(join(candidate, MACHINE_PROTO))) return candidate;
    if (dirname(dir) === dir) throw new Error(`no protos/${MACHINE_PROTO} found above ${start}`);
  }
}

const definitions = new Map<string, PackageDefinition>();

/** The proto-loader package definition (also gives per-method serializers, used by tests). */
export function machineDefinition(protoDir: string = findProtoDir()): PackageDefinition {
  let definition = definitions.get(protoDir);
  if (!definition) {
    definition = loadSync(MACHINE_PROTO, { ...LOADER_OPTIONS, includeDirs: [protoDir] });
    definitions.set(protoDir, definition);
  }
  return definition;
}

export function machineServiceConstructor(protoDir: string = findProtoDir()): ServiceClientConstructor {
  const machine = loadPackageDefinition(machineDefinition(protoDir)).machine as
    | { MachineService?: ServiceClientConstructor }
    | undefined;
  if (!machine?.MachineService) throw new Error(`machine.MachineService missing from ${join(protoDir, MACHINE_PROTO)}`);
  return machine.MachineService;
}
