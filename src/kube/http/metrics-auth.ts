// Who may read /metrics, decided the way controller-runtime's metrics filter
// (WithAuthenticationAndAuthorization) decides it: the caller's bearer token is checked with a
// TokenReview, then a SubjectAccessReview asks whether that user may `get` the non-resource URL.
// No token or a token the apiserver rejects is 401, a denied review 403, a failed review call 500.
import type { IncomingMessage } from 'node:http';
import type { KubeClient } from '../client/client';
import type { ResourceKind } from '../client/resource';
import type { KubeObject } from '../meta/object';
import type { RouteReply } from './http-server';

export const TokenReviewKind: ResourceKind = {
  group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview', plural: 'tokenreviews', namespaced: false,
};
export const SubjectAccessReviewKind: ResourceKind = {
  group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', namespaced: false,
};

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** TokenReview.status; absent when the request carried no bearer token. */
export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: UserInfo;
  error?: string;
}

/** SubjectAccessReview.status; absent when no review was asked (the caller was not authenticated). */
export interface AccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

interface Review<Spec, Status> extends KubeObject {
  spec: Spec;
  status?: Status;
}

export type AccessStatus = 200 | 401 | 403;

/** The answer to a metrics request from what the two reviews said. */
export function accessStatus(token: TokenReviewStatus | undefined, access: AccessReviewStatus | undefined): AccessStatus {
  if (!token?.authenticated) return 401;
  return access?.allowed ? 200 : 403;
}

/** The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

const denial = (status: number, body: string): RouteReply => ({ status, body: `${body}\n` });

export class MetricsAuthorizer {
  constructor(private readonly client: KubeClient) {}

  /** undefined lets the request through; anything else is the reply that refuses it. */
  async check(request: Pick<IncomingMessage, 'headers' | 'url'>): Promise<RouteReply | undefined> {
    const token = bearerToken(request.headers.authorization);
    let tokenReview: TokenReviewStatus | undefined;
    try {
      tokenReview = token ? await this.reviewToken(token) : undefined;
    } catch {
      return denial(500, 'Authentication failed');
    }
    const user = tokenReview?.user ?? {};
    let accessReview: AccessReviewStatus | undefined;
    try {
      const path = (request.url ?? '/').split('?')[0]!;
      // Only GET and HEAD reach here, and the apiserver calls both `get`.
      accessReview = tokenReview?.authenticated ? await this.reviewAccess(user, path, 'get') : undefined;
    } catch {
      return denial(500, `Authorization for user ${user.username ?? ''} failed`);
    }
    const status = accessStatus(tokenReview, accessReview);
    if (status === 200) return undefined;
    return denial(status, status === 401 ? 'Unauthorized' : `Authorization denied for user ${user.username ?? ''}`);
  }

  private async reviewToken(token: string): Promise<TokenReviewStatus | undefined> {
    const review: Review<{ token: string }, TokenReviewStatus> = {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token },
    };
    return (await this.client.create(TokenReviewKind, review)).status;
  }

  private async reviewAccess(user: UserInfo, path: string, verb: string): Promise<AccessReviewStatus | undefined> {
    const review: Review<Record<string, unknown>, AccessReviewStatus> = {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {},
      spec: { user: user.username, uid: user.uid, groups: user.groups, extra: user.extra, nonResourceAttributes: { path, verb } },
    };
    return (await this.client.create(SubjectAccessReviewKind, review)).status;
  }
}
