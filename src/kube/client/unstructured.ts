// Objects of kinds known only at run time (an infrastructure machine template named by a
// reference): get/list/create/patch/delete by apiVersion + kind, mapped to REST paths by discovery.
import type { KubeClient, ListOptions, ListResult, PatchOptions, PatchTypeName } from './client';
import type { KubeObject } from '../meta/object';
import type { GroupVersionKind, RestMapper } from './rest-mapper';

/** Any API object: typed metadata, everything else as JSON. */
export interface Unstructured extends KubeObject {
  apiVersion: string;
  kind: string;
  [field: string]: unknown;
}

/** Names one object of any kind; `namespace` is ignored for cluster-scoped kinds. */
export interface UnstructuredRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export class UnstructuredClient {
  constructor(private readonly client: KubeClient, readonly mapper: RestMapper) {}

  async get(ref: UnstructuredRef, signal?: AbortSignal): Promise<Unstructured> {
    const kind = await this.mapper.kindForApiVersion(ref.apiVersion, ref.kind, signal);
    return this.client.get<Unstructured>(kind, ref.namespace ?? '', ref.name, signal);
  }

  /** One object of a kind named by group only (a Cluster API v1beta2 reference): the group's preferred version. */
  async getInGroup(gvk: GroupVersionKind, namespace: string, name: string, signal?: AbortSignal): Promise<Unstructured> {
    const kind = await this.mapper.kindFor(gvk, signal);
    return this.client.get<Unstructured>(kind, namespace, name, signal);
  }

  async list(gvk: GroupVersionKind, options: ListOptions = {}): Promise<ListResult<Unstructured>> {
    const kind = await this.mapper.kindFor(gvk, options.signal);
    return this.client.list<Unstructured>(kind, options);
  }

  async create(obj: Unstructured, signal?: AbortSignal): Promise<Unstructured> {
    const kind = await this.mapper.kindForApiVersion(obj.apiVersion, obj.kind, signal);
    return this.client.create(kind, obj, signal);
  }

  async patch(ref: UnstructuredRef, patch: unknown, type: PatchTypeName, options: PatchOptions = {}): Promise<Unstructured> {
    const kind = await this.mapper.kindForApiVersion(ref.apiVersion, ref.kind, options.signal);
    return this.client.patch<Unstructured>(kind, ref.namespace ?? '', ref.name, patch, type, options);
  }

  async delete(ref: UnstructuredRef, signal?: AbortSignal): Promise<void> {
    const kind = await this.mapper.kindForApiVersion(ref.apiVersion, ref.kind, signal);
    await this.client.delete(kind, ref.namespace ?? '', ref.name, signal);
  }
}
