// Public surface of the Talos machine API client.
export { TalosClient } from './client';
export type {
  ApplyConfigurationOptions,
  BootstrapOptions,
  CallOptions,
  EventsOptions,
  FromTalosconfigOptions,
  ImagePullOptions,
  LifecycleUpgradeOptions,
  ListOptions,
  RebootOptions,
  ResetOptions,
  StreamCallOptions,
  TalosClientOptions,
  UpgradeOptions,
} from './client';
export { APID_PORT, endpointAddress, parseEndpoint, parseEndpoints, type Endpoint } from './endpoints';
export { TalosApiError, TalosClientConfigError, TalosMultiNodeError } from './errors';
export type { TalosEvent, TalosEventPayload } from './events';
export { extractKubeconfig } from './kubeconfig-archive';
export type * from './messages';
export { failures, unwrapAll, unwrapSingle, type NodeResult } from './replies';
export { METHOD_SAFETY, type MachineMethod, type RetryPolicy } from './retry';
export { collect } from './streams';
export { loadTalosconfigContext, selectContext, type ClientContext } from './talosconfig';
export type { NodeTarget } from './targeting';
export { memberIdHex, toUint64String, type EtcdMemberId } from './uint64';
