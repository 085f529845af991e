import type { EventPublisher } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { type OutboxMarker, isOutboxMarker, markerOf, readMarkedEvents, settleOutboxMarkers } from '../store/event-log.ts';
import { itemIdOfKey, listQueued } from '../store/queue.ts';
import { drainItemOutbox } from './drain-outbox.ts';

export interface OutboxRound {
  published: number;
  /** events the bus refused or failed to take: their markers stay, and a later round retries them */
  failed: number;
  /** the round took as many entries as it could: more may wait */
  full: boolean;
}

/**
 * Publishes logged events (store/event-log.ts) in cursor order, in one call, then takes what the
 * bus took off the outbox: a crash in between publishes them again with the same ids (at least
 * once); a failing bus leaves them queued, and nothing is lost. An event whose log row is not
 * written yet is left for a later round.
 */
export const publishMarkers = async (
  db: Db,
  publisher: EventPublisher,
  markers: readonly OutboxMarker[],
): Promise<{ published: number; failed: number; unpublished: OutboxMarker[] }> => {
  if (markers.length === 0) return { published: 0, failed: 0, unpublished: [] };
  const logged = await readMarkedEvents(db, markers);
  const { failedIds } = logged.length > 0 ? await publisher.publish(logged.map((l) => l.event), logged.map((l) => l.cursor)) : { failedIds: [] };
  const failed = new Set(failedIds);
  const published = new Set(logged.filter((l) => !failed.has(l.event.id)).map((l) => l.cursor));
  return { published: published.size, failed: logged.length - published.size, unpublished: await settleOutboxMarkers(db, markers, published) };
};

/**
 * One round of the publisher over the oldest entries of the outbox queue: the markers of logged
 * events, and records that hold their own events (alerts, and items written before the event log),
 * each drained by itself.
 */
export const publishOutboxRound = async (db: Db, publisher: EventPublisher, options: { limit?: number; before?: string } = {}): Promise<OutboxRound> => {
  const limit = options.limit ?? 100;
  const queued = await listQueued(db, 'outbox', { limit, ...(options.before ? { before: options.before } : {}) });
  const markers = queued.filter(isOutboxMarker).map(markerOf);
  const { published, failed } = await publishMarkers(db, publisher, markers);
  const round = { published, failed };
  for (const record of queued.filter((q) => !isOutboxMarker(q))) {
    const itemId = itemIdOfKey(record.pk);
    if (!itemId) continue;
    if (await drainItemOutbox(db, publisher, record.tenantId, itemId, record.sk)) round.published++;
    else round.failed++;
  }
  return { ...round, full: queued.length >= limit };
};
