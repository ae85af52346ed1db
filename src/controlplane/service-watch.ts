// The Talos services of every control-plane node, kept from each node's Events stream instead of
// polled: one stream per node (replaying what the node has buffered, then live), the latest state
// and health of each service, and a callback naming the control plane whenever something changed
// or a stream broke — so a pass runs as soon as etcd on a joining node turns healthy or a node
// stops answering. A broken stream is opened again with backoff; until it answers, the node's
// services are unknown.
import type { TalosEvent } from '../talos/api';
import { errorMessage } from '../util/errors';

export interface ServiceState {
  /** The last action Talos reported for the service: RUNNING, FINISHED, PREPARING, FAILED… */
  state: string;
  healthy: boolean;
  /** The service has no health check (or it has not run yet). */
  healthUnknown: boolean;
  message: string;
}

/** One node's services as far as its stream told; `unreachable` when the stream is down. */
export type NodeServices = { reachable: true; services: ReadonlyMap<string, ServiceState> } | { reachable: false; error: string };

/** What each control-plane Machine's Events stream said, by Machine name (undefined: nothing yet). */
export type NodeServicesByMachine = ReadonlyMap<string, NodeServices | undefined>;

export type OpenEvents = (address: string, signal: AbortSignal) => AsyncIterable<TalosEvent>;

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

interface NodeStream {
  owner: string;
  abort: AbortController;
  view?: NodeServices;
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((done) => {
  const timer = setTimeout(done, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); done(); }, { once: true });
});

export class ServiceWatch {
  private readonly streams = new Map<string, NodeStream>();

  constructor(
    private readonly open: (owner: string) => OpenEvents,
    private readonly changed: (owner: string) => void,
  ) {}

  /** Streams exactly for `addresses` of `owner`: new ones opened, ones no longer listed closed. */
  follow(owner: string, addresses: ReadonlySet<string>): void {
    for (const [address, stream] of this.streams) {
      if (stream.owner === owner && !addresses.has(address)) this.drop(address);
    }
    for (const address of addresses) {
      if (this.streams.has(address)) continue;
      const stream: NodeStream = { owner, abort: new AbortController() };
      this.streams.set(address, stream);
      void this.run(address, stream);
    }
  }

  /** What the stream of the node at `address` said; undefined before it said anything. */
  servicesAt(address: string): NodeServices | undefined {
    return this.streams.get(address)?.view;
  }

  /** Stops every stream of `owner` (its control plane is gone). */
  forget(owner: string): void {
    for (const [address, stream] of this.streams) if (stream.owner === owner) this.drop(address);
  }

  close(): void {
    for (const address of [...this.streams.keys()]) this.drop(address);
  }

  private drop(address: string): void {
    this.streams.get(address)?.abort.abort();
    this.streams.delete(address);
  }

  private async run(address: string, stream: NodeStream): Promise<void> {
    const { signal } = stream.abort;
    let retryMs = RETRY_MIN_MS;
    while (!signal.aborted) {
      const services = new Map<string, ServiceState>();
      try {
        for await (const event of this.open(stream.owner)(address, signal)) {
          retryMs = RETRY_MIN_MS;
          const first = stream.view?.reachable !== true;
          if (first) stream.view = { reachable: true, services };
          if (event.payload.kind !== 'serviceState') {
            if (first) this.changed(stream.owner);
            continue;
          }
          const { service, action, message, health } = event.payload;
          const before = services.get(service);
          services.set(service, { state: action, healthy: health.healthy, healthUnknown: health.unknown, message });
          if (first || before?.state !== action || before.healthy !== health.healthy) this.changed(stream.owner);
        }
        if (signal.aborted) return;
        stream.view = { reachable: false, error: 'the Events stream ended' };
      } catch (error) {
        if (signal.aborted) return;
        stream.view = { reachable: false, error: errorMessage(error) };
      }
      this.changed(stream.owner);
      await sleep(retryMs, signal);
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    }
  }
}

/** A service is well when it runs and its health check, if it has one, passes. */
export const serviceWell = (service: ServiceState | undefined): boolean =>
  service?.state === 'RUNNING' && (service.healthy || service.healthUnknown);

/** What is wrong with one of a node's services, in words; undefined when it is `well`. */
export function serviceProblem(services: ReadonlyMap<string, ServiceState>, id: string, well: (service: ServiceState | undefined) => boolean = serviceWell): string | undefined {
  const service = services.get(id);
  if (well(service)) return undefined;
  if (!service) return `${id} not reported`;
  const health = service.healthy || service.healthUnknown ? '' : ', not healthy';
  return `${id} ${service.state.toLowerCase()}${health}${service.message ? ` (${service.message})` : ''}`;
}

/** etcd is a healthy member only once its health check passed (it has one). */
const etcdRunsHealthy = (etcd: ServiceState | undefined): boolean => etcd?.state === 'RUNNING' && etcd.healthy;

/** What is wrong with a node's etcd member, in words; undefined when it runs healthy. */
export const etcdProblem = (services: ReadonlyMap<string, ServiceState>): string | undefined => serviceProblem(services, 'etcd', etcdRunsHealthy);

/** The Talos services a control-plane node needs running besides etcd (whose health is judged on its own). */
export const CONTROL_PLANE_SERVICES = ['apid', 'containerd', 'cri', 'kubelet', 'machined', 'trustd'] as const;

/** Every Talos service a control-plane node is judged on, etcd too, in ServiceList order. */
const CHECKED_SERVICES = [...CONTROL_PLANE_SERVICES, 'etcd'].sort();

/** Which of a control-plane node's Talos services are not running healthy, in words; undefined when all are. */
export function servicesProblem(services: ReadonlyMap<string, ServiceState>): string | undefined {
  const sick = CHECKED_SERVICES.filter((id) => (id === 'etcd' ? !etcdWell(services) : !serviceWell(services.get(id))));
  return sick.length === 0 ? undefined : `${sick.join(', ')} not running healthy`;
}

/** The node runs a healthy etcd member. */
export const etcdWell = (services: ReadonlyMap<string, ServiceState>): boolean => etcdRunsHealthy(services.get('etcd'));
