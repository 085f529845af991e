import type { Db } from '../store/db.ts';

/**
 * Deliveries a caller in this process records and processes itself, such as a backfill page from
 * its recording to the end of its batch. The local processor's discovery leaves them alone
 * meanwhile rather than process the same batch a second time beside it (both would read, normalize
 * and plan it, and one would lose every item write). They stay on the queue: should the caller stop
 * before processing them, discovery takes them once it released them.
 */
export class DeliveryClaims {
  readonly #held = new Map<string, number>();

  /** Holds `pks` until the returned function is called (once). */
  hold(pks: readonly string[]): () => void {
    for (const pk of pks) this.#held.set(pk, (this.#held.get(pk) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const pk of pks) {
        const count = this.#held.get(pk)! - 1;
        if (count > 0) this.#held.set(pk, count);
        else this.#held.delete(pk);
      }
    };
  }

  isHeld(pk: string): boolean {
    return this.#held.has(pk);
  }
}

const claims = new WeakMap<Db, DeliveryClaims>();

/** One set per table handle, shared by the jobs and the processor of a process. */
export const deliveryClaimsFor = (db: Db): DeliveryClaims => {
  let held = claims.get(db);
  if (!held) claims.set(db, (held = new DeliveryClaims()));
  return held;
};
