import type { EventPublisher } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { loadAlertRecord, removePublishedAlertEvents } from '../store/alerts.ts';
import { loadItem, removePublishedEvents } from '../store/items.ts';

/**
 * Publishes the pending events of one item record, in order, then removes what was published.
 * A crash between the two publishes the same events again with the same ids (at least once);
 * a failing bus leaves them pending, and nothing is lost. Returns false when some remain.
 */
export const drainItemOutbox = async (db: Db, publisher: EventPublisher, tenantId: string, itemId: string, sk = 'ITEM'): Promise<boolean> => {
  if (sk.startsWith('ALERT#')) return drainAlertOutbox(db, publisher, tenantId, itemId, sk.slice('ALERT#'.length));
  const record = await loadItem(db, tenantId, itemId);
  if (record.pending.length === 0) {
    if (record.rev > 0) await removePublishedEvents(db, record, itemId, []);
    return true;
  }
  const { failedIds } = await publisher.publish(record.pending);
  const failed = new Set(failedIds);
  const published = record.pending.filter((e) => !failed.has(e.id)).map((e) => e.id);
  if (published.length > 0) await removePublishedEvents(db, record, itemId, published);
  return failed.size === 0;
};

/** The same for an alert record (in its subject's partition): its raised/resolved events. */
const drainAlertOutbox = async (db: Db, publisher: EventPublisher, tenantId: string, subjectId: string, alertId: string): Promise<boolean> => {
  const record = await loadAlertRecord(db, tenantId, subjectId, alertId);
  if (record.rev === 0) return true;
  if (record.pending.length === 0) {
    await removePublishedAlertEvents(db, record, subjectId, alertId, []);
    return true;
  }
  const { failedIds } = await publisher.publish(record.pending);
  const failed = new Set(failedIds);
  const published = record.pending.filter((e) => !failed.has(e.id)).map((e) => e.id);
  if (published.length > 0) await removePublishedAlertEvents(db, record, subjectId, alertId, published);
  return failed.size === 0;
};
