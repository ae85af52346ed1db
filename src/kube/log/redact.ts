// Key material must never reach a log line. Three layers: pino's path-based `redact` for the
// well-known places, a deep walk for free-form objects (errors, API objects, options), and a scan
// of every logged string (messages included) for PEM private keys, base64-encoded ones, and Talos /
// kubeadm bootstrap tokens.

export const REDACTED = '[REDACTED]';

// Field names whose values are secret wherever they appear (compared case-insensitively).
const SECRET_FIELD_NAMES = new Set(
  [
    'key', 'crt', 'cert', 'token', 'bearertoken', 'password', 'privatekey', 'private_key',
    'talosconfig', 'kubeconfig', 'client-key-data', 'client-certificate-data', 'tls.key', 'tls.crt',
    'ca.key', 'secretboxencryptionsecret', 'aescbcencryptionsecret', 'bootstraptoken', 'authorization',
    'stringdata',
  ].map((name) => name.toLowerCase()),
);

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;
/** Talos (and kubeadm) bootstrap and trustd tokens: `[a-z0-9]{6}.[a-z0-9]{16}`. */
const BOOTSTRAP_TOKEN = /(?<![a-z0-9.])[a-z0-9]{6}\.[a-z0-9]{16}(?![a-z0-9.])/g;
/** Runs long enough to hold "-----BEGIN ... PRIVATE KEY-----" once base64-encoded. */
const BASE64_RUN = /[A-Za-z0-9+/]{40,}={0,2}/g;
/** A Secret's name, maybe with its namespace: what a `secret` log field means (the Talos bundle's
 * `cluster.secret` is base64 and is redacted). */
const OBJECT_NAME = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Paths for pino's `redact` option (fast, one level of wildcard). */
export const LOG_REDACT_PATHS: string[] = [
  '*.key', '*.crt', '*.token', '*.talosconfig', '*.kubeconfig', '*.privateKey', '*.password',
  'data.value', '*.data.value', 'token', 'talosconfig', 'kubeconfig', 'privateKey', 'key', 'password',
];

export function isSecretFieldName(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_FIELD_NAMES.has(lower) || lower.endsWith('.key') || lower.endsWith('privatekey');
}

/** Replaces private keys (PEM or base64-encoded PEM) and bootstrap tokens inside free text. */
export function redactText(text: string): string {
  return text.replace(PEM_PRIVATE_KEY, REDACTED).replace(BOOTSTRAP_TOKEN, REDACTED).replace(BASE64_RUN, redactEncoded);
}

// A base64 run is redacted when, read from any of the four character alignments (it may be cut out
// of a longer blob), it decodes to text that itself needs redacting: a PEM key, a token, or base64
// of those again (a Secret's data holding a talosconfig whose `key:` is base64 PEM).
function redactEncoded(run: string): string {
  for (let offset = 0; offset < 4; offset++) {
    const decoded = Buffer.from(run.slice(offset), 'base64').toString('latin1');
    if (decoded.includes('PRIVATE KEY-----') || redactText(decoded) !== decoded) return REDACTED;
  }
  return run;
}

/**
 * Returns a copy of `value` with secret fields replaced. Secrets' `data` maps are redacted whole.
 * Cycles are cut; Error objects become plain objects with their message (redacted) and stack.
 */
export function redactSecrets(value: unknown): unknown {
  return walk(value, new WeakSet<object>());
}

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => walk(item, seen));
  if (value instanceof Error) return walkError(value, seen);
  const source = value as Record<string, unknown>;
  const isSecretObject = source.kind === 'Secret';
  const out: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(source)) {
    if (field === 'secret' && typeof fieldValue !== 'object') out[field] = isObjectName(fieldValue) ? fieldValue : REDACTED;
    else if (fieldValue !== undefined && fieldValue !== null && isSecretFieldName(field)) out[field] = REDACTED;
    else if (isSecretObject && field === 'data' && typeof fieldValue === 'object' && fieldValue !== null) {
      out[field] = Object.fromEntries(Object.keys(fieldValue).map((k) => [k, REDACTED]));
    } else if (field === 'data' && isValueMap(fieldValue)) out[field] = { ...fieldValue, value: REDACTED };
    else out[field] = walk(fieldValue, seen);
  }
  return out;
}

function isObjectName(value: unknown): boolean {
  return typeof value === 'string' && value.length <= 253 && OBJECT_NAME.test(value);
}

// CAPI bootstrap data Secrets carry the machine config in data.value.
function isValueMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && 'value' in value;
}

function walkError(error: Error, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name, message: redactText(error.message) };
  if (error.stack) out.stack = redactText(error.stack);
  // `cause` is not enumerable, but it holds the useful part of network errors (ECONNREFUSED…).
  if (error.cause !== undefined) out.cause = walk(error.cause, seen);
  for (const [field, fieldValue] of Object.entries(error)) {
    out[field] = isSecretFieldName(field) ? REDACTED : walk(fieldValue, seen);
  }
  return out;
}
