// A small generic REST client over client-node's authentication: rate limited (--kube-api-qps/burst),
// counted (rest_client_requests_total), JSON in and out, plus raw watch streams for the informer.
import { IsomorphicFetchHttpLibrary, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { KubeApiError } from './api-error';
import type { RuntimeMetrics } from './metrics';
import type { KubeObject } from './object';
import { type ResourceKind, apiVersionOf, resourcePath } from './resource';
import { TokenBucket } from './token-bucket';

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
  private readonly http = new IsomorphicFetchHttpLibrary();

  constructor(readonly kubeConfig: KubeConfig, private readonly options: ClientOptions = {}) {
    this.limiter = new TokenBucket({ qps: options.qps ?? 20, burst: options.burst ?? 30 });
    if (!kubeConfig.getCurrentCluster()) throw new Error('kubeconfig has no current cluster');
  }

  /** From an explicit kubeconfig path, else $KUBECONFIG / ~/.kube/config / in-cluster service account. */
  static load(kubeconfigPath: string | undefined, options: ClientOptions = {}): KubeClient {
    const kubeConfig = new KubeConfig();
    if (kubeconfigPath) kubeConfig.loadFromFile(kubeconfigPath);
    else kubeConfig.loadFromDefault();
    return new KubeClient(kubeConfig, options);
  }

  get server(): string {
    return this.kubeConfig.getCurrentCluster()?.server ?? '';
  }

  /** Namespace of the current kubeconfig context, if it names one. */
  get contextNamespace(): string | undefined {
    return this.kubeConfig.getContextObject(this.kubeConfig.getCurrentContext())?.namespace;
  }

  async request<T>(method: HttpVerb, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options, 'application/json');
    const text = await response.body.text();
    if (response.httpStatusCode >= 300) throw KubeApiError.fromResponse(response.httpStatusCode, method, path, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Opens a streaming GET (a watch); the caller reads and cancels the stream. */
  async stream(path: string, query: Query, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send('GET', path, { query, signal, timeoutMs: 0 }, 'application/json');
    const body = response.body.stream();
    if (response.httpStatusCode !== 200 || !body) {
      const text = await response.body.text().catch(() => '');
      throw KubeApiError.fromResponse(response.httpStatusCode, 'GET', path, text);
    }
    return body;
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

  private async send(method: HttpVerb, path: string, options: RequestOptions, accept: string) {
    // An aborted caller (a reconcile after the lease was lost) sends nothing, even once a token frees up.
    options.signal?.throwIfAborted();
    if (!options.bypassRateLimit) await this.limiter.take();
    options.signal?.throwIfAborted();
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const context = new RequestContext(url.toString(), method);
    context.setHeaderParam('Accept', accept);
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      context.setBody(JSON.stringify(options.body));
    }
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000;
    const signals = [options.signal, timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined].filter(
      (signal): signal is AbortSignal => signal !== undefined,
    );
    if (signals.length) context.setSignal(AbortSignal.any(signals));
    await this.kubeConfig.applySecurityAuthentication(context);
    try {
      const response = await this.http.send(context).toPromise();
      this.options.metrics?.restClientRequests.inc({ code: String(response.httpStatusCode), method });
      return response;
    } catch (error) {
      this.options.metrics?.restClientRequests.inc({ code: '<error>', method });
      throw error;
    }
  }
}
