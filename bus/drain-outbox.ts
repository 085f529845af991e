import type { EventPublisher } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { loadAlertRecord, removePublishedAlertEvents } from '../store/alerts.ts';
import { type LoggedEvent, writeEventLog } from '../store/event-log.ts';
import { loadItem, removePublishedEvents } from '../store/items.ts';

/**
 * Publishes the events a record holds itself (an alert record, or an item record written before
 * the event log), in order, then removes what was published. Their log rows are written first
 * (without outbox markers: this drain is their way out), so the log holds every published event.
 * A crash in between publishes the same events again with the same ids (at least once); a failing
 * bus leaves them pending, and nothing is lost. Returns false when some remain.
 */
export const drainItemOutbox = async (db: Db, publisher: EventPublisher, tenantId: string, itemId: string, sk = 'ITEM'): Promise<boolean> => {
  if (sk.startsWith('ALERT#')) return drainAlertOutbox(db, publisher, tenantId, itemId, sk.slice('ALERT#'.length));
  const record = await loadItem(db, tenantId, itemId);
  if (!record.queued) return true;
  if (record.pending.length === 0) {
    await removePublishedEvents(db, record, itemId, []);
    return true;
  }
  const published = await publishHeld(db, publisher, record.pending);
  if (published.length > 0) await removePublishedEvents(db, record, itemId, published);
  return published.length === record.pending.length;
};

/** The same for an alert record (in its subject's partition): its raised/resolved events. */
const drainAlertOutbox = async (db: Db, publisher: EventPublisher, tenantId: string, subjectId: string, alertId: string): Promise<boolean> => {
  const record = await loadAlertRecord(db, tenantId, subjectId, alertId);
  if (record.rev === 0) return true;
  if (record.pending.length === 0) {
    await removePublishedAlertEvents(db, record, subjectId, alertId, []);
    return true;
  }
  const published = await publishHeld(db, publisher, record.pending);
  if (published.length > 0) await removePublishedAlertEvents(db, record, subjectId, alertId, published);
  return published.length === record.pending.length;
};

/** Logs and publishes a record's own events; resolves with the ids the bus took. */
const publishHeld = async (db: Db, publisher: EventPublisher, pending: readonly LoggedEvent[]): Promise<string[]> => {
  await writeEventLog(db, pending, { markers: false });
  const { failedIds } = await publisher.publish(
    pending.map((p) => p.event),
    pending.map((p) => p.cursor),
  );
  const failed = new Set(failedIds);
  return pending.filter((p) => !failed.has(p.event.id)).map((p) => p.event.id);
};
