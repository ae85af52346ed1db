// Loads our protos/ at runtime into one grpc-js client constructor for
// machine.MachineService plus the ImageService and LifecycleService methods we
// call (Talos >= 1.13) and the resource API's Get (COSI), so one channel per
// endpoint serves all four.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeClientConstructor, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

export const MACHINE_PROTO = 'machine/machine.proto';
const PROTO_FILES = [MACHINE_PROTO, 'machine/image.proto', 'machine/lifecycle.proto', 'cosi/state.proto'];

/**
 * Methods of the other services, under names that do not clash with
 * MachineService's own (it has a List and an Upgrade too); each keeps its
 * service's path (/machine.ImageService/Pull).
 */
export const OTHER_SERVICE_METHODS = {
  ImageServiceList: ['machine.ImageService', 'List'],
  ImageServicePull: ['machine.ImageService', 'Pull'],
  LifecycleServiceUpgrade: ['machine.LifecycleService', 'Upgrade'],
  ResourceGet: ['cosi.resource.State', 'Get'],
} as const;

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
    definition = loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [protoDir] });
    definitions.set(protoDir, definition);
  }
  return definition;
}

export function machineServiceConstructor(protoDir: string = findProtoDir()): ServiceClientConstructor {
  const definition = machineDefinition(protoDir);
  const service = (name: string): ServiceDefinition => {
    const found = definition[name] as ServiceDefinition | undefined;
    if (!found) throw new Error(`${name} missing from ${protoDir}`);
    return found;
  };
  const methods: Record<string, ServiceDefinition[string]> = { ...service('machine.MachineService') };
  for (const [alias, [serviceName, method]] of Object.entries(OTHER_SERVICE_METHODS)) {
    const found = service(serviceName)[method];
    if (!found) throw new Error(`${serviceName}/${method} missing from ${protoDir}`);
    methods[alias] = found;
  }
  return makeClientConstructor(methods as ServiceDefinition, 'machine.MachineService');
}
