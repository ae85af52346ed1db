// What this process did that its caches may not show yet: a Machine it created (the next pass
// must not create another "first" one), a Machine it deleted (the next pass must not remove a
// second one), and an etcd bootstrap it made (the next pass must not try
// again before the status write comes back through the informer). Keyed by TalosControlPlane UID.
export class Expectations {
  private readonly createdMachines = new Map<string, string>();
  private readonly deletedMachines = new Map<string, string>();
  private readonly bootstrapped = new Set<string>();

  machineCreated(uid: string, machineName: string): void {
    this.createdMachines.set(uid, machineName);
  }

  /** The Machine created last that the cache does not list yet; forgotten once it does. */
  machineNotYetSeen(uid: string, cachedNames: readonly string[]): string | undefined {
    const name = this.createdMachines.get(uid);
    if (name !== undefined && cachedNames.includes(name)) this.createdMachines.delete(uid);
    return this.createdMachines.get(uid);
  }

  machineDeleted(uid: string, machineName: string): void {
    this.deletedMachines.set(uid, machineName);
  }

  /** The Machine deleted last that the cache still lists as not deleting; forgotten once it does not. */
  deletionNotYetSeen(uid: string, activeNames: readonly string[]): string | undefined {
    const name = this.deletedMachines.get(uid);
    if (name !== undefined && !activeNames.includes(name)) this.deletedMachines.delete(uid);
    return this.deletedMachines.get(uid);
  }

  etcdBootstrapped(uid: string): void {
    this.bootstrapped.add(uid);
  }

  wasEtcdBootstrapped(uid: string): boolean {
    return this.bootstrapped.has(uid);
  }

  forget(uid: string): void {
    this.createdMachines.delete(uid);
    this.deletedMachines.delete(uid);
    this.bootstrapped.delete(uid);
  }
}
