import { Expectations } from '../../../src/controlplane/expectations';

describe('Expectations', () => {
  it('holds a created Machine until the cache lists it, then forgets it', () => {
    const e = new Expectations();
    expect(e.machineNotYetSeen('u', [])).toBeUndefined();
    e.machineCreated('u', 'cp-abcde');
    expect(e.machineNotYetSeen('u', ['cp-other'])).toBe('cp-abcde');
    expect(e.machineNotYetSeen('u', ['cp-other', 'cp-abcde'])).toBeUndefined();
    expect(e.machineNotYetSeen('u', [])).toBeUndefined();
  });

  it('remembers an etcd bootstrap per control plane until it is forgotten', () => {
    const e = new Expectations();
    e.etcdBootstrapped('u');
    e.machineCreated('u', 'cp-abcde');
    expect([e.wasEtcdBootstrapped('u'), e.wasEtcdBootstrapped('v')]).toEqual([true, false]);
    e.forget('u');
    expect([e.wasEtcdBootstrapped('u'), e.machineNotYetSeen('u', [])]).toEqual([false, undefined]);
  });
});
