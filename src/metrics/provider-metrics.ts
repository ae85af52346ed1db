// What the two providers do, as Prometheus counters under talos_capi_*: machine configs rendered,
// secrets bundles created, etcd operations, control-plane rollout steps and Talos API calls.
// The counters live here, once per process, so that the code doing the work needs one call and no
// plumbing; the operator adds them to the registry it serves (registerProviderMetrics).
import { Counter, type Metric, type Registry } from 'prom-client';

export const CONFIG_RENDER_RESULTS = ['success', 'invalid', 'error'] as const;
type ConfigRenderResult = (typeof CONFIG_RENDER_RESULTS)[number];

/** A bundle made from scratch, or written again from the copy held in memory after its Secret was deleted. */
export const BUNDLE_SOURCES = ['generated', 'restored'] as const;
type BundleSource = (typeof BUNDLE_SOURCES)[number];

/** `remove_member`: a member removed by ID through a peer (its own node did not answer). */
export const ETCD_OPERATIONS = ['bootstrap', 'forfeit_leadership', 'leave', 'remove_member'] as const;
type EtcdOperation = (typeof ETCD_OPERATIONS)[number];
/** `already_bootstrapped`: a Bootstrap found etcd's data or got ALREADY_EXISTS. */
export const ETCD_RESULTS = ['success', 'already_bootstrapped', 'error'] as const;
type EtcdResult = (typeof ETCD_RESULTS)[number];

export const ROLLOUT_ACTIONS = ['created', 'removed'] as const;
type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];
/** Why a control-plane Machine was created or removed (scale.ts's ChangeReason). */
export const ROLLOUT_REASONS = ['scale', 'rollout', 'remediation'] as const;
type RolloutReason = (typeof ROLLOUT_REASONS)[number];

const configsRendered = new Counter({
  name: 'talos_capi_configs_rendered_total',
  help: 'Machine configs rendered for bootstrap data, by result (invalid: the TalosConfig cannot be rendered)',
  labelNames: ['result'], registers: [],
});
const bundlesCreated = new Counter({
  name: 'talos_capi_secrets_bundles_created_total',
  help: 'Cluster secrets bundle Secrets created, by source',
  labelNames: ['source'], registers: [],
});
const etcdOperations = new Counter({
  name: 'talos_capi_etcd_operations_total',
  help: 'etcd operations through the Talos API (bootstrap, forfeit leadership, leave), by result',
  labelNames: ['operation', 'result'], registers: [],
});
const rolloutSteps = new Counter({
  name: 'talos_capi_controlplane_rollout_steps_total',
  help: 'Control-plane Machines created or removed, by reason (scale or rollout)',
  labelNames: ['action', 'reason'], registers: [],
});
const talosApiCalls = new Counter({
  name: 'talos_capi_talos_api_calls_total',
  help: 'Talos machine API calls (each attempt), by RPC and gRPC status code',
  labelNames: ['rpc', 'code'], registers: [],
});

/** Every counter above, for the served registry and for tests. */
export const PROVIDER_COUNTERS = { configsRendered, bundlesCreated, etcdOperations, rolloutSteps, talosApiCalls } as const;

// Every known series starts at 0 so that rates and increases exist before the first event.
for (const result of CONFIG_RENDER_RESULTS) configsRendered.inc({ result }, 0);
for (const source of BUNDLE_SOURCES) bundlesCreated.inc({ source }, 0);
for (const operation of ETCD_OPERATIONS) for (const result of ETCD_RESULTS) etcdOperations.inc({ operation, result }, 0);
for (const action of ROLLOUT_ACTIONS) for (const reason of ROLLOUT_REASONS) rolloutSteps.inc({ action, reason }, 0);

export function registerProviderMetrics(registry: Registry): void {
  for (const counter of Object.values(PROVIDER_COUNTERS) as Metric[]) registry.registerMetric(counter);
}

/** Runs a render and counts it: success, invalid input (per `isInvalidInput`), or another error. */
export function countConfigRender<T>(render: () => T, isInvalidInput: (error: unknown) => boolean): T {
  let result: ConfigRenderResult = 'error';
  try {
    const rendered = render();
    result = 'success';
    return rendered;
  } catch (error) {
    if (isInvalidInput(error)) result = 'invalid';
    throw error;
  } finally {
    configsRendered.inc({ result });
  }
}

export function countBundleCreated(source: BundleSource): void {
  bundlesCreated.inc({ source });
}

/** Counts an etcd operation once it settles; `resultOf` names a success (default `success`). */
export async function countEtcdOperation<T>(operation: EtcdOperation, work: Promise<T>, resultOf: (value: T) => EtcdResult = () => 'success'): Promise<T> {
  try {
    const value = await work;
    etcdOperations.inc({ operation, result: resultOf(value) });
    return value;
  } catch (error) {
    etcdOperations.inc({ operation, result: 'error' });
    throw error;
  }
}

export function countRolloutStep(action: RolloutAction, reason: RolloutReason): void {
  rolloutSteps.inc({ action, reason });
}

/** One attempt of a Talos API call; `code` is the gRPC status name (OK, UNAVAILABLE, …). */
export function countTalosCall(rpc: string, code: string): void {
  talosApiCalls.inc({ rpc, code });
}
