// talos-capi gen talosconfig: client configuration with an os:admin certificate from the bundle.

import { generateTalosconfig } from '../../talos/config';
import type { FlagCommand } from './command';
import { FORCE_FLAG, outputFlag, readBundle, secretsFlag, writeResult } from './shared';

export const genTalosconfig: FlagCommand = {
  path: ['gen', 'talosconfig'],
  summary: 'generate a talosconfig with an admin client certificate',
  flags: [
    secretsFlag(true),
    { name: 'endpoint', value: 'IP...', description: 'Talos API endpoints (host or host:port)', variadic: true, required: true },
    { name: 'node', value: 'IP...', description: 'default target nodes', variadic: true },
    { name: 'context', value: 'NAME', description: 'context name (default talos)' },
    outputFlag('write the talosconfig to FILE instead of stdout'),
    FORCE_FLAG,
  ],
  async run(flags, io) {
    const talosconfig = await generateTalosconfig({
      bundle: readBundle(io, flags.required('secrets')),
      contextName: flags.string('context') ?? 'talos',
      endpoints: flags.list('endpoint'),
      nodes: flags.list('node'),
    });
    writeResult(io, flags, talosconfig);
  },
};
