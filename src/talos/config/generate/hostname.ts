// Which name becomes a machine's static hostname: CABPT's TalosConfig `hostname.source`.

import { InputError } from '../net';

export type HostnameSource = 'MachineName' | 'InfrastructureName';

export const HOSTNAME_SOURCES: readonly HostnameSource[] = ['MachineName', 'InfrastructureName'];

export interface HostnameNames {
  /** The owning Machine's metadata.name. */
  machineName?: string;
  /** The Machine's spec.infrastructureRef.name. */
  infrastructureName?: string;
}

/**
 * The static hostname for `source` ('' or undefined: none, Talos picks one). A source whose
 * name is not known (yet) is an error rather than a silently missing hostname.
 */
export function resolveHostname(source: string | undefined, names: HostnameNames): string | undefined {
  if (!source) return undefined;
  if (!(HOSTNAME_SOURCES as readonly string[]).includes(source)) {
    throw new InputError(`unknown hostname source "${source}": expected ${HOSTNAME_SOURCES.join(' or ')}`);
  }
  const name = source === 'MachineName' ? names.machineName : names.infrastructureName;
  if (!name) throw new InputError(`hostname source ${source} is set but the ${source === 'MachineName' ? 'Machine name' : 'infrastructure reference name'} is not known`);
  return name;
}
