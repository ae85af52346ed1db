// The connection settings of one talosconfig context (the YAML kept in the
// `<cluster>-talosconfig` Secret). Reading the YAML is talos/config's job; this
// picks the context and insists on what a client needs, with errors that say
// which part is missing. Only certificate authentication is supported: that is
// what CABPT writes.
import { parseTalosconfig, TalosconfigError, type ParsedTalosconfig } from '../config/talosconfig';
import { TalosClientConfigError } from './errors';

/** One talosconfig context, with ca/crt/key as PEM text. */
export interface ClientContext {
  name: string;
  endpoints: string[];
  /** Default nodes of the context (talosctl's default targets); informational for us. */
  nodes: string[];
  caPem: string;
  certPem: string;
  keyPem: string;
}

function readTalosconfig(text: string): ParsedTalosconfig {
  try {
    return parseTalosconfig(text);
  } catch (err) {
    if (err instanceof TalosconfigError) throw new TalosClientConfigError(err.message);
    throw err;
  }
}

function requirePem(pem: string, key: string, contextName: string): string {
  if (pem.trim() === '') {
    const hint = key === 'ca' ? '' : ' (only client-certificate authentication is supported)';
    throw new TalosClientConfigError(`talosconfig context "${contextName}" has no "${key}"${hint}`);
  }
  if (!pem.includes('-----BEGIN ')) {
    throw new TalosClientConfigError(`talosconfig context "${contextName}": "${key}" is not base64 of PEM text`);
  }
  return pem;
}

/**
 * The context asked for, else the talosconfig's current context, else the
 * only context there is.
 */
export function selectContext(config: ParsedTalosconfig, name?: string): ClientContext {
  const available = Object.keys(config.contexts);
  let chosen = name ?? (config.context || undefined);
  if (chosen === undefined) {
    if (available.length !== 1) {
      throw new TalosClientConfigError(
        `talosconfig names no current context; pick one of: ${available.join(', ') || '(none)'}`,
      );
    }
    chosen = available[0] as string;
  }
  const context = config.contexts[chosen];
  if (!context) {
    throw new TalosClientConfigError(`talosconfig has no context "${chosen}" (has: ${available.join(', ') || 'none'})`);
  }
  return {
    name: chosen,
    endpoints: [...new Set(context.endpoints)],
    nodes: context.nodes,
    caPem: requirePem(context.ca, 'ca', chosen),
    certPem: requirePem(context.crt, 'crt', chosen),
    keyPem: requirePem(context.key, 'key', chosen),
  };
}

export function loadTalosconfigContext(text: string, name?: string): ClientContext {
  return selectContext(readTalosconfig(text), name);
}
