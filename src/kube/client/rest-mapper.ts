// REST mapping by discovery: which URL path (plural) serves a group/version/kind and whether it is
// namespaced — for kinds the code cannot know in advance (infrastructure machines and templates
// named by a reference). Discovery documents are cached per group-version; a kind missing from a
// cached document triggers one fresh read, since its CRD may have been installed since.
import { isNotFound } from './api-error';
import type { KubeClient } from './client';
import type { ResourceKind } from './resource';

/** A kind; without `version`, the group's preferred version is used (CAPI v1beta2 refs carry only apiGroup). */
export interface GroupVersionKind {
  group: string;
  version?: string;
  kind: string;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

export interface ApiResourceList {
  groupVersion: string;
  resources: ApiResource[];
}

export interface ApiGroup {
  name: string;
  preferredVersion?: { version: string };
  versions: { version: string }[];
}

export class NoKindMatchError extends Error {
  override readonly name = 'NoKindMatchError';
}

/** "group/version" or "v1" (the core group) → its parts. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The top-level resource serving `kind` in a discovery document (subresources such as "machines/status" skipped). */
export function resourceFor(list: ApiResourceList, group: string, version: string, kind: string): ResourceKind | undefined {
  const resource = list.resources.find((r) => r.kind === kind && !r.name.includes('/'));
  return resource && { group, version, kind, plural: resource.name, namespaced: resource.namespaced };
}

export function preferredVersion(group: ApiGroup): string | undefined {
  return group.preferredVersion?.version ?? group.versions[0]?.version;
}

export class RestMapper {
  private readonly lists = new Map<string, Promise<ApiResourceList | undefined>>();
  private readonly groups = new Map<string, Promise<ApiGroup | undefined>>();

  constructor(private readonly client: KubeClient) {}

  /** The ResourceKind for a kind; throws NoKindMatchError when the server does not serve it. */
  async kindFor(gvk: GroupVersionKind, signal?: AbortSignal): Promise<ResourceKind> {
    const version = gvk.version ?? (await this.preferredVersionOf(gvk.group, signal));
    const found = (await this.resourceOf(gvk.group, version, gvk.kind, false, signal)) ??
      (await this.resourceOf(gvk.group, version, gvk.kind, true, signal));
    if (!found) throw new NoKindMatchError(`no resource serves ${gvk.kind} in ${gvk.group ? `${gvk.group}/` : ''}${version}`);
    return found;
  }

  /** The ResourceKind of an object's apiVersion and kind (unstructured objects, owner references). */
  kindForApiVersion(apiVersion: string, kind: string, signal?: AbortSignal): Promise<ResourceKind> {
    return this.kindFor({ ...parseApiVersion(apiVersion), kind }, signal);
  }

  private async resourceOf(group: string, version: string, kind: string, fresh: boolean, signal?: AbortSignal) {
    const key = `${group}/${version}`;
    if (fresh) this.lists.delete(key);
    let list = this.lists.get(key);
    if (!list) {
      list = this.read<ApiResourceList>(group, version, signal);
      this.lists.set(key, list);
      list.catch(() => this.lists.delete(key));
    }
    const document = await list;
    return document && resourceFor(document, group, version, kind);
  }

  private async preferredVersionOf(group: string, signal?: AbortSignal): Promise<string> {
    if (!group) return 'v1';
    let document = this.groups.get(group);
    // A group learnt once keeps its preferred version; a missing one is asked again next time.
    if (!document) {
      document = this.read<ApiGroup>(group, undefined, signal);
      this.groups.set(group, document);
      void document.then((found) => found ?? this.groups.delete(group), () => this.groups.delete(group));
    }
    const version = preferredVersion((await document) ?? { name: group, versions: [] });
    if (!version) throw new NoKindMatchError(`the server serves no API group ${group}`);
    return version;
  }

  private async read<T>(group: string, version: string | undefined, signal?: AbortSignal): Promise<T | undefined> {
    try {
      return await this.client.discovery<T>(group, version, signal);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}
