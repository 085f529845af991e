import type { EventEnvelope } from '../core/events.ts';
import type { Clock, EventPublisher } from '../core/ports.ts';
import { type EventFacets, facetsOfEvent, facetsOfItem, filterNeedsItem, subjectItemId, subscriptionMatches } from '../core/subscriptions.ts';
import type { Db } from '../store/db.ts';
import { getItems } from '../store/item-queries.ts';
import { type DeliveryToQueue, type StoredSubscription, enqueueDeliveries, listSubscriptions } from '../store/subscriptions.ts';

/**
 * A tenant's subscriptions, read for every published batch, cached briefly: a change through this
 * process's API applies at once (the routes invalidate), other processes (Lambda) see it within
 * `ttlMs`. An event published meanwhile reaches the subscriptions as they were a moment before.
 */
export class SubscriptionCache {
  readonly #entries = new Map<string, { value: StoredSubscription[]; expires: number }>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 30_000,
  ) {}

  async get(tenantId: string): Promise<StoredSubscription[]> {
    const hit = this.#entries.get(tenantId);
    if (hit && hit.expires > Date.now()) return hit.value;
    const value = await listSubscriptions(this.db, tenantId);
    this.#entries.set(tenantId, { value, expires: Date.now() + this.ttlMs });
    return value;
  }

  invalidate(tenantId: string): void {
    this.#entries.delete(tenantId);
  }
}

const caches = new WeakMap<Db, SubscriptionCache>();

/** One cache per table handle, shared by the publisher and the HTTP routes of a process. */
export const subscriptionCacheFor = (db: Db): SubscriptionCache => {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new SubscriptionCache(db)));
  return cache;
};

export interface MatchDeps {
  db: Db;
  clock: Clock;
  cache?: SubscriptionCache;
}

export interface MatchResult {
  /** every (subscription, event) that matched */
  matched: DeliveryToQueue[];
  /** those queued now (the others were queued before) */
  queued: DeliveryToQueue[];
}

/**
 * The subscriptions each event matches (types, then filter), its delivery queued for each. Every
 * subscription gets its events queued whatever its status: a paused or disabled one sends them
 * once it is active again. Filters on a team or category the event does not carry (item summaries
 * and alerts have no team) read the item from the index, once per batch.
 */
export const matchAndEnqueue = async (
  deps: MatchDeps,
  events: readonly EventEnvelope[],
  cursors?: readonly (string | undefined)[],
  options: { only?: StoredSubscription; replace?: boolean } = {},
): Promise<MatchResult> => {
  const cache = deps.cache ?? subscriptionCacheFor(deps.db);
  const byTenant = new Map<string, { event: EventEnvelope; cursor?: string }[]>();
  events.forEach((event, i) => {
    const list = byTenant.get(event.tenantId) ?? [];
    list.push({ event, ...(cursors?.[i] ? { cursor: cursors[i] } : {}) });
    byTenant.set(event.tenantId, list);
  });
  const matched: DeliveryToQueue[] = [];
  for (const [tenantId, entries] of byTenant) {
    // A replay matches its own subscription only (`only`), and queues its events afresh (`replace`).
    const subscriptions = options.only ? [options.only] : await cache.get(tenantId);
    if (subscriptions.length === 0) continue;
    const facets = new Map<string, EventFacets>(entries.map(({ event }) => [event.id, facetsOfEvent(event)]));
    const lookups = [
      ...new Set(
        entries
          .filter(({ event }) => subscriptions.some((s) => filterNeedsItem(s.subscription.filter, facets.get(event.id)!)))
          .map(({ event }) => subjectItemId(event))
          .filter((id): id is string => id !== undefined),
      ),
    ];
    const items = lookups.length > 0 ? await getItems(deps.db, tenantId, lookups) : new Map();
    for (const { event, cursor } of entries) {
      const item = items.get(subjectItemId(event) ?? '');
      const known = item ? { ...facetsOfItem(item), ...facets.get(event.id)! } : facets.get(event.id)!;
      for (const { subscription } of subscriptions) {
        if (subscriptionMatches(subscription, event, known)) matched.push({ tenantId, subscriptionId: subscription.id, event, ...(cursor ? { cursor } : {}) });
      }
    }
  }
  const queued = await enqueueDeliveries(deps.db, matched, deps.clock(), { replace: options.replace === true });
  return { matched, queued };
};

/**
 * The publisher the local pipeline gets: each batch is queued for the subscriptions it matches
 * (durably, before the bus takes it), then handed to the bus. Queuing fails as a whole (the batch
 * is retried, its outbox markers stay) and is idempotent, so nothing is lost and a retried batch
 * sends nothing twice. `onQueued` hears which subscriptions have new work (the dispatcher).
 */
export const withSubscriptions = (inner: EventPublisher, deps: MatchDeps & { onQueued?: (queued: DeliveryToQueue[]) => void }): EventPublisher => ({
  async publish(events, cursors) {
    if (events.length > 0) {
      const { queued } = await matchAndEnqueue(deps, events, cursors);
      if (queued.length > 0) deps.onQueued?.(queued);
    }
    return inner.publish(events, cursors);
  },
});
