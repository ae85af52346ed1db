// A small generic REST client: rate limited (--kube-api-qps/burst), counted
// (rest_client_requests_total), JSON in and out, plus raw watch streams for the informer.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { KubeApiError } from './api-error';
import { type ClusterAccess, loadClusterAccess } from './kubeconfig';
import type { RuntimeMetrics } from '../http/metrics';
import type { KubeObject } from '../meta/object';
import { type ResourceKind, apiVersionOf, resourcePath } from './resource';
import { TokenBucket } from './token-bucket';
import { Transport, readBody } from './transport';

export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | boolean | undefined>;

export const PatchType = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
export type PatchTypeName = keyof typeof PatchType;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Leader election must not queue behind reconcile traffic, or the lease could lapse. */
  bypassRateLimit?: boolean;
  timeoutMs?: number;
}

export interface ClientOptions {
  qps?: number;
  burst?: number;
  metrics?: RuntimeMetrics;
  requestTimeoutMs?: number;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; the client follows `continue` tokens. */
  limit?: number;
  signal?: AbortSignal;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

interface ListPage<T> {
  items?: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface PatchOptions {
  subresource?: string;
  fieldManager?: string;
  force?: boolean;
  signal?: AbortSignal;
}

export class KubeClient {
  private readonly limiter: TokenBucket;
  private readonly transport: Transport;

  constructor(readonly access: ClusterAccess, private readonly options: ClientOptions = {}) {
    this.limiter = new TokenBucket({ qps: options.qps ?? 20, burst: options.burst ?? 30 });
    this.transport = new Transport(access);
  }

  /** From an explicit kubeconfig path, else $KUBECONFIG / ~/.kube/config / in-cluster service account. */
  static load(kubeconfigPath: string | undefined, options: ClientOptions = {}): KubeClient {
    return new KubeClient(loadClusterAccess(kubeconfigPath), options);
  }

  get server(): string {
    return this.access.server;
  }

  /** Namespace of the current kubeconfig context, if it names one. */
  get contextNamespace(): string | undefined {
    return this.access.namespace;
  }

  async request<T>(method: HttpVerb, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options, 'application/json');
    const text = await readBody(response);
    const status = response.statusCode ?? 0;
    if (status >= 300) throw KubeApiError.fromResponse(status, method, path, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Opens a streaming GET (a watch); the caller reads and cancels the stream. */
  async stream(path: string, query: Query, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send('GET', path, { query, signal, timeoutMs: 0 }, 'application/json');
    if (response.statusCode !== 200) {
      const text = await readBody(response).catch(() => '');
      throw KubeApiError.fromResponse(response.statusCode ?? 0, 'GET', path, text);
    }
    return Readable.toWeb(response) as ReadableStream<Uint8Array>;
  }

  /** A discovery document: /api/v1, /apis/<group> (an APIGroup) or /apis/<group>/<version> (an APIResourceList). */
  discovery<T>(group: string, version?: string, signal?: AbortSignal): Promise<T> {
    const path = group ? `/apis/${group}${version ? `/${version}` : ''}` : `/api/${version ?? 'v1'}`;
    return this.request<T>('GET', path, { signal });
  }

  get<T extends KubeObject>(kind: ResourceKind, namespace: string, name: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', resourcePath(kind, namespace, name), { signal });
  }

  async list<T extends KubeObject>(kind: ResourceKind, options: ListOptions = {}): Promise<ListResult<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page: ListPage<T> = await this.request('GET', resourcePath(kind, options.namespace ?? ''), {
        signal: options.signal,
        query: {
          labelSelector: options.labelSelector, fieldSelector: options.fieldSelector,
          limit: options.limit ?? 500, continue: continueToken,
        },
      });
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    // List items carry no apiVersion/kind; fill them in so that objects are self-describing.
    for (const item of items) {
      item.apiVersion ??= apiVersionOf(kind);
      item.kind ??= kind.kind;
    }
    return { items, resourceVersion };
  }

  create<T extends KubeObject>(kind: ResourceKind, obj: T, signal?: AbortSignal): Promise<T> {
    return this.request<T>('POST', resourcePath(kind, obj.metadata.namespace ?? ''), { body: obj, signal });
  }

  /** PUT: fails with 409 when obj.metadata.resourceVersion is stale (optimistic concurrency). */
  replace<T extends KubeObject>(kind: ResourceKind, obj: T, subresource?: string, signal?: AbortSignal): Promise<T> {
    const path = resourcePath(kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '', subresource);
    return this.request<T>('PUT', path, { body: obj, signal });
  }

  patch<T extends KubeObject>(
    kind: ResourceKind, namespace: string, name: string, patch: unknown, type: PatchTypeName, options: PatchOptions = {},
  ): Promise<T> {
    return this.request<T>('PATCH', resourcePath(kind, namespace, name, options.subresource), {
      body: patch, contentType: PatchType[type], signal: options.signal,
      query: { fieldManager: options.fieldManager, force: options.force },
    });
  }

  delete(kind: ResourceKind, namespace: string, name: string, signal?: AbortSignal): Promise<unknown> {
    return this.request('DELETE', resourcePath(kind, namespace, name), { signal });
  }

  private async send(method: HttpVerb, path: string, options: RequestOptions, accept: string): Promise<IncomingMessage> {
    // An aborted caller (a reconcile after the lease was lost) sends nothing, even once a token frees up.
    options.signal?.throwIfAborted();
    if (!options.bypassRateLimit) await this.limiter.take();
    options.signal?.throwIfAborted();
    const url = new URL(this.server + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { Accept: accept };
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000;
    try {
      const response = await this.transport.send({ method, url, headers, body, signal: options.signal, timeoutMs });
      this.options.metrics?.restClientRequests.inc({ code: String(response.statusCode), method });
      return response;
    } catch (error) {
      this.options.metrics?.restClientRequests.inc({ code: '<error>', method });
      throw error;
    }
  }
}
