// talos-capi gen secrets: a new cluster secrets bundle, interchangeable with talosctl's.

import { CURRENT_CONTRACT, encodeSecretsBundle, generateSecretsBundle } from '../../talos/config';
import type { FlagCommand } from './command';
import { contractOf, FORCE_FLAG, outputFlag } from './shared';

export const genSecrets: FlagCommand = {
  path: ['gen', 'secrets'],
  summary: 'generate a secrets bundle (secrets.yaml)',
  flags: [
    outputFlag('where to write the bundle (default secrets.yaml; - for stdout)'),
    { name: 'talos-version', value: 'vX.Y', description: 'Talos version the bundle is for (default: newest)' },
    FORCE_FLAG,
  ],
  async run(flags, io) {
    const contract = contractOf(flags.string('talos-version')) ?? CURRENT_CONTRACT;
    const bundle = await generateSecretsBundle({ contract });
    // The bundle holds every CA key of the cluster: readable by the owner only, as talosctl writes it.
    io.writeOutput(flags.string('output') ?? 'secrets.yaml', encodeSecretsBundle(bundle), { mode: 0o600, force: flags.bool('force') });
  },
};
