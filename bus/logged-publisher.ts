import type { EventPublisher } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { type LoggedEvent, eventCursor, writeEventLog } from '../store/event-log.ts';

/**
 * Keeps in the event log the events published without a cursor (the weekly digests, which the
 * sweep publishes straight from their own records), so the stream resumes over them and
 * subscriptions replay them like every other event. Their cursor derives from the event id, so
 * publishing one again writes the same row. Events that come with their cursor were logged by
 * whoever wrote them (store/event-log.ts) and pass through as they are.
 */
export const withEventLog = (inner: EventPublisher, db: Db): EventPublisher => ({
  async publish(events, cursors) {
    const unlogged: LoggedEvent[] = [];
    const all = events.map((event, i) => {
      const known = cursors?.[i];
      if (known) return known;
      const cursor = eventCursor(event.time, { pk: `T#${event.tenantId}#EVENT#${event.id}`, sk: 'PUBLISHED' }, 0);
      unlogged.push({ event, cursor });
      return cursor;
    });
    if (unlogged.length > 0) await writeEventLog(db, unlogged, { markers: false });
    return inner.publish(events, all);
  },
});
