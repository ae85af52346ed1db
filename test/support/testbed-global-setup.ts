// Jest globalSetup for the integration project: one test bed for the run, with
// our webhook server (conversion + validation) registered once for all files.
// Set TESTBED_DIR to a running test bed (`npm run testbed -- up --dir DIR`) to reuse it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, readState, startTestbed } from '../testbed/testbed';
import { SHARED_WEBHOOK_URL_ENV, startRegisteredWebhooks } from './webhook-certs';

export default async function globalSetup(): Promise<void> {
  const reuse = process.env.TESTBED_DIR;
  if (reuse && isRunning(reuse)) {
    process.env.KUBECONFIG = readState(reuse).kubeconfig;
    process.env.TESTBED_OWNED = '';
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'talos-capi-testbed-'));
    const started = Date.now();
    const state = await startTestbed({ dir });
    process.stderr.write(`\n[testbed] up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${state.server} (${dir})\n`);
    process.env.TESTBED_DIR = dir;
    process.env.KUBECONFIG = state.kubeconfig;
    process.env.TESTBED_OWNED = '1';
  }
  const webhooks = await startRegisteredWebhooks(process.env.KUBECONFIG!);
  process.env[SHARED_WEBHOOK_URL_ENV] = webhooks.server.url;
  (globalThis as { __talosCapiWebhooks?: typeof webhooks }).__talosCapiWebhooks = webhooks;
}
