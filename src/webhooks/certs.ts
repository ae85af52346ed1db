// The webhook server's serving certificate, read from a directory holding
// tls.crt and tls.key (what cert-manager or a mounted Secret provides), and
// re-read when the files change so a renewed certificate is served without a
// restart.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../kube/log/logger';

export const DEFAULT_WEBHOOK_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';
export const CERT_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';

export interface ServingCertificate {
  cert: Buffer;
  key: Buffer;
}

/** Reads and checks the pair; the error names the directory and what is wrong (never the key). */
export function readServingCertificate(certDir: string, purpose = 'webhook'): ServingCertificate {
  let pair: ServingCertificate;
  try {
    pair = { cert: readFileSync(join(certDir, CERT_FILE)), key: readFileSync(join(certDir, KEY_FILE)) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${purpose} serving certificate: cannot read ${CERT_FILE}/${KEY_FILE} in ${certDir}: ${reason}`, { cause: error });
  }
  try {
    createSecureContext(pair);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${purpose} serving certificate in ${certDir} is not a usable certificate and key pair: ${reason}`, { cause: error });
  }
  return pair;
}

/**
 * Polls the two files (stat polling follows the symlink swaps of mounted Secrets, which inotify
 * watches miss) and hands each new valid pair to `onChange`. A half-written pair is skipped and
 * picked up on the next change.
 */
export class CertificateReloader {
  private readonly paths: string[];
  private readonly listener = (): void => {
    this.reload();
  };

  constructor(
    private readonly certDir: string,
    private readonly onChange: (pair: ServingCertificate) => void,
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
  ) {
    this.paths = [join(certDir, CERT_FILE), join(certDir, KEY_FILE)];
  }

  start(): void {
    for (const path of this.paths) watchFile(path, { interval: this.intervalMs, persistent: false }, this.listener);
  }

  stop(): void {
    for (const path of this.paths) unwatchFile(path, this.listener);
  }

  /** Re-reads the pair now; returns whether a new one was installed. */
  reload(): boolean {
    try {
      this.onChange(readServingCertificate(this.certDir));
      this.logger.info({ certDir: this.certDir }, 'webhook serving certificate reloaded');
      return true;
    } catch (error) {
      this.logger.warn({ certDir: this.certDir, error: error instanceof Error ? error.message : String(error) }, 'webhook serving certificate not reloaded');
      return false;
    }
  }
}
