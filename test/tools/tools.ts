// The real command-line tools users install talos-capi with, built from the Go module proxy
// through their own modules here (test/tools/<tool>/go.mod) into the shared build cache, the way
// the test bed and Cluster API core are built. clusterctl and helm need different k8s.io module
// versions (Cluster API v1.13 builds with 0.35, helm v4.3 with 0.37), so they are two modules.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildGoModule, type GoBuildSpec } from '../support/go-build';

interface Tool {
  name: string;
  /** The module the tool's main package lives in, as required by its go.mod here. */
  module: string;
  mainPackage: string;
  /** Stamps the version the tool reports (`clusterctl version`, `helm version`) as their releases do. */
  versionLdflags: (version: string) => string[];
}

export const CLUSTERCTL: Tool = {
  name: 'clusterctl',
  module: 'sigs.k8s.io/cluster-api',
  mainPackage: 'sigs.k8s.io/cluster-api/cmd/clusterctl',
  versionLdflags: (version) => [`-X sigs.k8s.io/cluster-api/version.gitVersion=${version}`, '-X sigs.k8s.io/cluster-api/version.gitTreeState=clean'],
};

export const HELM: Tool = {
  name: 'helm',
  module: 'helm.sh/helm/v4',
  mainPackage: 'helm.sh/helm/v4/cmd/helm',
  versionLdflags: (version) => [`-X helm.sh/helm/v4/internal/version.version=${version}`, '-X helm.sh/helm/v4/internal/version.metadata='],
};

const moduleDir = (tool: Tool) => resolve(__dirname, tool.name);

/** The version of `tool.module` that the tool's go.mod requires. */
export function toolVersion(tool: Tool): string {
  const goMod = readFileSync(join(moduleDir(tool), 'go.mod'), 'utf8');
  const escaped = tool.module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!match) throw new Error(`${tool.module} is not required by ${moduleDir(tool)}/go.mod`);
  return match[1]!;
}

export function toolBuildSpec(tool: Tool): GoBuildSpec {
  return {
    name: tool.name,
    moduleDir: moduleDir(tool),
    packages: [tool.mainPackage],
    ldflags: ['-s -w', ...tool.versionLdflags(toolVersion(tool))].join(' '),
  };
}

/** The tool's binary, built on first use (a cold build takes minutes; go-build prints how long). */
export async function toolBinary(tool: Tool): Promise<string> {
  const build = await buildGoModule(toolBuildSpec(tool));
  return join(build.binDir, tool.name);
}

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool binary to completion with exactly `env` (plus PATH), never a shell. */
export function runTool(binary: string, args: readonly string[], env: Record<string, string>, cwd?: string): Promise<ToolRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}
