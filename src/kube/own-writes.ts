// Remembers which cached versions of an object this process has already
// replaced with its own write. The informer delivers our write a moment later;
// reconciling the older copy meanwhile would only redo work and re-send status.
export class OwnWrites {
  private readonly superseded = new Map<string, string>();

  constructor(private readonly capacity = 10_000) {}

  /** Our write replaced `version` of the object `uid`. */
  record(uid: string | undefined, version: string | undefined): void {
    if (!uid || !version) return;
    this.superseded.delete(uid);
    this.superseded.set(uid, version);
    if (this.superseded.size > this.capacity) this.superseded.delete(this.superseded.keys().next().value!);
  }

  /** True when this cached copy is one we already wrote over (the newer copy is on its way). */
  isSuperseded(uid: string | undefined, version: string | undefined): boolean {
    return uid !== undefined && version !== undefined && this.superseded.get(uid) === version;
  }
}
