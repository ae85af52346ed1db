// Which node(s) apid should run a call on. Without a target the endpoint's own
// node answers. `node` makes apid proxy one-to-one (the reply is passed through
// as-is); `nodes` makes it fan out and tag every reply with common.Metadata
// (hostname, and error/status for a node that failed).
import { Metadata } from '@grpc/grpc-js';
import { TalosClientConfigError } from './errors';

export type NodeTarget = { node: string } | { nodes: readonly string[] };

function checkNodeName(name: string): string {
  const trimmed = name.trim();
  // apid takes each metadata value as one address; a comma would silently
  // become part of it, so reject rather than guess.
  if (trimmed === '' || /[\s,]/.test(trimmed)) {
    throw new TalosClientConfigError(`invalid node "${name}": expected one address or hostname`);
  }
  return trimmed;
}

/** gRPC metadata for a target; `nodes` goes out as one metadata value per node. */
export function targetMetadata(target?: NodeTarget): Metadata {
  const metadata = new Metadata();
  if (!target) return metadata;
  if ('node' in target) {
    metadata.set('node', checkNodeName(target.node));
    return metadata;
  }
  if (target.nodes.length === 0) throw new TalosClientConfigError('node target "nodes" is empty');
  const names = target.nodes.map(checkNodeName);
  if (new Set(names).size !== names.length) throw new TalosClientConfigError('node target "nodes" lists a node twice');
  for (const name of names) metadata.add('nodes', name);
  return metadata;
}

/**
 * The name a reply without common.Metadata.hostname belongs to: the single
 * targeted node, else the endpoint that answered for itself.
 */
export function defaultReplyNode(target: NodeTarget | undefined, endpointHost: string): string {
  if (target && 'node' in target) return target.node.trim();
  return endpointHost;
}
