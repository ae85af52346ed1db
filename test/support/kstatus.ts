// Runs test/tools/kstatus, our Go program on sigs.k8s.io/cli-utils/pkg/kstatus (the status
// library Flux and Argo CD health checks build on), over live objects: what a GitOps tool would
// say of them — Current, InProgress, Failed, Terminating or NotFound, and why.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ResourceKind } from '../../src/kube/client/resource';
import { buildGoModule, type GoBuildResult } from './go-build';

const KSTATUS_MODULE_DIR = join(__dirname, '..', 'tools', 'kstatus');
/** A cold build compiles client-go: minutes on 2 shared cores. */
export const KSTATUS_BUILD_TIMEOUT_MS = 10 * 60 * 1000;

export type KstatusStatus = 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown';

export interface KstatusResult {
  kind: string;
  namespace: string;
  name: string;
  status: KstatusStatus;
  message: string;
}

/** One object, or (without a name) every object of that kind in the namespace. */
export interface KstatusTarget {
  kind: ResourceKind;
  namespace: string;
  name?: string;
}

/** The tool's argument: group/version/resource/namespace[/name]. */
export function kstatusArgument({ kind, namespace, name }: KstatusTarget): string {
  return [kind.group, kind.version, kind.plural, namespace, ...(name ? [name] : [])].join('/');
}

export class Kstatus {
  private constructor(private readonly binary: string, private readonly kubeconfig: string, readonly build: GoBuildResult) {}

  /** Builds the tool (or takes it from the cache) to read through `kubeconfig`. */
  static async forKubeconfig(kubeconfig: string): Promise<Kstatus> {
    const build = await buildGoModule({ name: 'kstatus', moduleDir: KSTATUS_MODULE_DIR, packages: ['.'], ldflags: '-s -w' });
    return new Kstatus(join(build.binDir, 'kstatus'), kubeconfig, build);
  }

  async of(...targets: KstatusTarget[]): Promise<KstatusResult[]> {
    const { stdout } = await promisify(execFile)(this.binary, [`--kubeconfig=${this.kubeconfig}`, ...targets.map(kstatusArgument)]);
    return JSON.parse(stdout) as KstatusResult[];
  }

  /** What kstatus says of one named object. */
  async one(kind: ResourceKind, namespace: string, name: string): Promise<KstatusResult> {
    const [result] = await this.of({ kind, namespace, name });
    return result!;
  }
}
