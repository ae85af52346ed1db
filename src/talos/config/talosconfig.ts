// talosconfig: the client configuration talosctl (and our machine API client) uses, with an
// admin client certificate signed by the cluster's OS CA — what Talos's Input.Talosconfig()
// writes, but built from the bundle alone (no config generation needed).

import { issueClientCertificate } from './secrets/certificates';
import type { SecretsBundle } from './secrets/bundle';
import { emitDocument } from './yaml/emitter';
import { parseYamlValue } from './yaml/parse';
import { isYamlMap, type YamlMap, type YamlValue } from './yaml/values';

/** Talos API roles (subject organisations of client certificates). */
export const TALOS_ROLES = [
  'os:admin',
  'os:operator',
  'os:reader',
  'os:etcd:backup',
  'os:image:verifier',
  'os:meta:writer',
  'os:impersonator',
] as const;

export type TalosRole = (typeof TALOS_ROLES)[number];

/** Client certificates are valid for one year (Talos's TalosAPIDefaultCertificateValidityDuration). */
export const CLIENT_CERTIFICATE_VALIDITY_MS = 8_760 * 3_600_000;

export interface TalosconfigOptions {
  bundle: SecretsBundle;
  /** Context name (Talos uses the cluster name). */
  contextName: string;
  /** Talos API endpoints (host or host:port; port 50000 by default). */
  endpoints: readonly string[];
  /** Default target nodes for talosctl. */
  nodes?: readonly string[];
  /** Certificate roles (default os:admin). */
  roles?: readonly TalosRole[];
  /** Start of the certificate's validity (default now). */
  now?: Date;
}

export class TalosconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TalosconfigError';
  }
}

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

/** Generates talosconfig YAML with a fresh client certificate. */
export async function generateTalosconfig(options: TalosconfigOptions): Promise<string> {
  const os = options.bundle.certs.os;
  if (!os?.crt || !os.key) throw new TalosconfigError('the secrets bundle has no OS CA certificate and key');
  if (!options.contextName) throw new TalosconfigError('context name is required');
  const roles = options.roles ?? ['os:admin'];
  if (roles.length === 0) throw new TalosconfigError('at least one role is required to generate a Talos API certificate');
  const now = options.now ?? new Date();
  const client = await issueClientCertificate({
    ca: os,
    organizations: [...roles],
    notBefore: now,
    notAfter: new Date(now.getTime() + CLIENT_CERTIFICATE_VALIDITY_MS),
  });
  const context: YamlMap = { endpoints: [...options.endpoints] };
  if (options.nodes && options.nodes.length > 0) context.nodes = [...options.nodes];
  context.ca = b64(os.crt);
  context.crt = b64(client.crt);
  context.key = b64(client.key);
  return emitDocument({ context: options.contextName, contexts: { [options.contextName]: context } });
}

export interface TalosconfigContext {
  endpoints: string[];
  nodes: string[];
  /** PEM texts (empty when absent). */
  ca: string;
  crt: string;
  key: string;
}

export interface ParsedTalosconfig {
  context: string;
  contexts: Record<string, TalosconfigContext>;
}

const strings = (value: YamlValue | undefined): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const pem = (value: YamlValue | undefined): string =>
  typeof value === 'string' && value !== '' ? Buffer.from(value, 'base64').toString('utf8') : '';

/** Reads talosconfig YAML (the deprecated `target` joins the endpoints, as Talos does). */
export function parseTalosconfig(text: string): ParsedTalosconfig {
  let root: YamlValue;
  try {
    root = parseYamlValue(text);
  } catch (err) {
    throw new TalosconfigError(`talosconfig is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isYamlMap(root) || !isYamlMap(root.contexts)) throw new TalosconfigError('talosconfig has no contexts');
  const contexts: Record<string, TalosconfigContext> = {};
  for (const [name, value] of Object.entries(root.contexts)) {
    if (!isYamlMap(value)) continue;
    const target = typeof value.target === 'string' && value.target ? [value.target] : [];
    contexts[name] = {
      endpoints: [...strings(value.endpoints), ...target],
      nodes: strings(value.nodes),
      ca: pem(value.ca),
      crt: pem(value.crt),
      key: pem(value.key),
    };
  }
  return { context: typeof root.context === 'string' ? root.context : '', contexts };
}
