// Shapes shared by every API group. The wire-level object and condition types
// live in src/kube; this adds what typed API objects need on top.
import type { ObjectMeta } from '../kube/meta/object';

export type { ObjectMeta } from '../kube/meta/object';
export type { Condition } from '../kube/patch/conditions';
export type { V1Beta1Condition } from '../kube/patch/conditions-v1beta1';

/** Labels and annotations only: what a template may stamp onto the objects made from it. */
export interface ObjectMetaTemplate {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Every typed object of ours: apiVersion/kind plus metadata. */
export interface TypedObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/** `group/version` → `{group, version}`; the core group has no slash. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}
