import type { Db } from '../store/db.ts';
import { type ConnectionRecord, getConnection } from '../store/connections.ts';

/**
 * Connections read on the ack path, cached for a few seconds to keep the path at one write.
 * Changes made through this process (rotate, delete) invalidate at once; other processes see
 * them within `ttlMs`.
 */
export class ConnectionCache {
  readonly #entries = new Map<string, { value: Promise<ConnectionRecord | undefined>; expires: number }>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 2000,
  ) {}

  /** One read per connection and period, however many requests ask at once (a burst must not stampede the store). */
  get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const hit = this.#entries.get(connectionId);
    if (hit && hit.expires > Date.now()) return hit.value;
    const value = getConnection(this.db, connectionId);
    this.#entries.set(connectionId, { value, expires: Date.now() + this.ttlMs });
    // A failed read is not kept: the next request tries again.
    value.catch(() => {
      if (this.#entries.get(connectionId)?.value === value) this.#entries.delete(connectionId);
    });
    return value;
  }

  invalidate(connectionId: string): void {
    this.#entries.delete(connectionId);
  }
}
