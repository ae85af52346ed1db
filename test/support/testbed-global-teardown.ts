import { rmSync } from 'node:fs';
import { stopTestbed } from '../testbed/testbed';

export default async function globalTeardown(): Promise<void> {
  const webhooks = (globalThis as { __talosCapiWebhooks?: { stop(): Promise<void> } }).__talosCapiWebhooks;
  await webhooks?.stop().catch(() => undefined);
  const dir = process.env.TESTBED_DIR;
  if (!dir || process.env.TESTBED_OWNED !== '1') return;
  await stopTestbed(dir);
  if (!process.env.TESTBED_KEEP) rmSync(dir, { recursive: true, force: true });
}
