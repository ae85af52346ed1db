// Remembers, for a short while, that this process replaced a cached version of
// an object with its own write. The informer delivers our write a moment later;
// reconciling the older copy meanwhile would only redo work and re-send status.
// Keyed on what the server returned: a write it accepted without a new version
// supersedes nothing, and the memory expires, so a copy is never skipped for
// good if the newer one does not arrive.
interface Superseded {
  /** The cached version our write replaced. */
  version: string;
  expiresAt: number;
}

export class OwnWrites {
  private readonly superseded = new Map<string, Superseded>();

  constructor(
    private readonly ttlMs = 10_000,
    private readonly capacity = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Our write took the object `uid` from version `before` to the version the server `returned`. */
  record(uid: string | undefined, before: string | undefined, returned: string | undefined): void {
    if (!uid || !before) return;
    this.superseded.delete(uid);
    if (!returned || returned === before) return;
    this.superseded.set(uid, { version: before, expiresAt: this.now() + this.ttlMs });
    if (this.superseded.size > this.capacity) this.superseded.delete(this.superseded.keys().next().value!);
  }

  /** True when this cached copy is one we recently wrote over (the newer copy is on its way). */
  isSuperseded(uid: string | undefined, version: string | undefined): boolean {
    if (uid === undefined || version === undefined) return false;
    const entry = this.superseded.get(uid);
    if (!entry) return false;
    if (entry.expiresAt <= this.now()) {
      this.superseded.delete(uid);
      return false;
    }
    return entry.version === version;
  }
}
