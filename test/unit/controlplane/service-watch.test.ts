import { etcdWell, serviceWell, ServiceWatch, type OpenEvents } from '../../../src/controlplane/service-watch';
import type { TalosEvent } from '../../../src/talos/api';

const service = (name: string, action: string, healthy: boolean): TalosEvent => ({
  id: name + action, actorId: '', typeUrl: 'talos/runtime/machine.ServiceStateEvent',
  payload: { kind: 'serviceState', service: name, action, message: '', health: { unknown: false, healthy, lastMessage: '' } },
});

/** Streams whose events the test pushes; each ends (throws) when told, or when aborted. */
function streams() {
  const open = new Map<string, { push: (event: TalosEvent) => void; fail: (error: Error) => void; aborted: () => boolean }>();
  const opener: OpenEvents = (address, signal) => {
    const queue: TalosEvent[] = [];
    let wake = () => {};
    let failure: Error | undefined;
    open.set(address, {
      push: (event) => { queue.push(event); wake(); },
      fail: (error) => { failure = error; wake(); },
      aborted: () => signal.aborted,
    });
    signal.addEventListener('abort', () => wake());
    return (async function* () {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (failure) throw failure;
        if (signal.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    })();
  };
  return { open, opener };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('ServiceWatch', () => {
  it('keeps each node’s services from its stream and says when something changed', async () => {
    const { open, opener } = streams();
    const changes: string[] = [];
    const watch = new ServiceWatch(() => opener, (owner) => changes.push(owner));
    watch.follow('ns/cp', new Set(['10.0.0.1']));
    await tick();
    expect(watch.servicesAt('10.0.0.1')).toBeUndefined();
    open.get('10.0.0.1')!.push(service('etcd', 'PREPARING', false));
    await tick();
    open.get('10.0.0.1')!.push(service('etcd', 'RUNNING', true));
    await tick();
    const seen = watch.servicesAt('10.0.0.1');
    expect(seen?.reachable && etcdWell(seen.services)).toBe(true);
    expect(changes).toEqual(['ns/cp', 'ns/cp']);
    // The same state again is no change.
    open.get('10.0.0.1')!.push(service('etcd', 'RUNNING', true));
    await tick();
    expect(changes).toHaveLength(2);
    watch.close();
  });

  it('a broken stream makes the node unreachable (and says so), then opens it again', async () => {
    const { open, opener } = streams();
    const changes: string[] = [];
    const watch = new ServiceWatch(() => opener, (owner) => changes.push(owner));
    watch.follow('ns/cp', new Set(['10.0.0.1']));
    await tick();
    const first = open.get('10.0.0.1')!;
    first.push(service('apid', 'RUNNING', true));
    await tick();
    first.fail(new Error('connection reset'));
    await tick();
    expect(watch.servicesAt('10.0.0.1')).toEqual({ reachable: false, error: 'connection reset' });
    expect(changes).toEqual(['ns/cp', 'ns/cp']);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(open.get('10.0.0.1')).not.toBe(first);
    watch.close();
  });

  it('follows exactly the addresses it is given: gone ones are closed, and forget closes an owner’s', async () => {
    const { open, opener } = streams();
    const watch = new ServiceWatch(() => opener, () => undefined);
    watch.follow('ns/cp', new Set(['10.0.0.1', '10.0.0.2']));
    watch.follow('ns/other', new Set(['10.0.1.1']));
    await tick();
    watch.follow('ns/cp', new Set(['10.0.0.2']));
    expect(open.get('10.0.0.1')!.aborted()).toBe(true);
    expect(open.get('10.0.0.2')!.aborted()).toBe(false);
    watch.forget('ns/cp');
    expect(open.get('10.0.0.2')!.aborted()).toBe(true);
    expect(open.get('10.0.1.1')!.aborted()).toBe(false);
    watch.close();
    expect(open.get('10.0.1.1')!.aborted()).toBe(true);
  });

  it('judges a service well when running and healthy, or running without a health check', () => {
    expect(serviceWell({ state: 'RUNNING', healthy: true, healthUnknown: false, message: '' })).toBe(true);
    expect(serviceWell({ state: 'RUNNING', healthy: false, healthUnknown: true, message: '' })).toBe(true);
    expect(serviceWell({ state: 'RUNNING', healthy: false, healthUnknown: false, message: '' })).toBe(false);
    expect(serviceWell({ state: 'FINISHED', healthy: true, healthUnknown: false, message: '' })).toBe(false);
    expect(etcdWell(new Map([['etcd', { state: 'RUNNING', healthy: false, healthUnknown: true, message: '' }]]))).toBe(false);
  });
});
