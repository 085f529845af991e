import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { publishOutboxRound } from '../../bus/publish-outbox.ts';
import { type EventEnvelope, eventsForChange } from '../../core/events.ts';
import { applyChange } from '../../core/merge.ts';
import type { EventPublisher } from '../../core/ports.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import { type LoggedEvent, MARKER_CURSORS, eventCursor, unlogged, writeEventLog } from '../../store/event-log.ts';
import { keys } from '../../store/keys.ts';
import { listQueued } from '../../store/queue.ts';
import { at, upsert } from '../fixtures/work-items.ts';
import { uniqueTable } from '../support/hub.ts';

/** The creation event of `count` new items of a tenant, logged as a batch would log them. */
const created = (tenantId: string, count: number, time = at(0)): LoggedEvent[] =>
  Array.from({ length: count }, (_, n) => {
    const item = applyChange(undefined, upsert({ ref: `github:octo/api#${n + 1}` }))!;
    const [event] = eventsForChange(undefined, item, { tenantId, causationKey: `test#${n}`, time });
    return { event: event!, cursor: eventCursor(event!.time, keys.item(tenantId, item.id), 0) };
  });

/** A bus that takes everything but the ids it is told to refuse. */
const bus = (refuse: ReadonlySet<string> = new Set()) => {
  const taken: EventEnvelope[] = [];
  const publisher: EventPublisher = {
    publish: async (events) => {
      taken.push(...events.filter((e) => !refuse.has(e.id)));
      return { failedIds: events.filter((e) => refuse.has(e.id)).map((e) => e.id) };
    },
  };
  return { publisher, taken };
};

const outbox = (db: Db) => listQueued(db, 'outbox', { limit: 1000 });

describe('outbox markers: one per tenant and day of a batch', () => {
  let db: Db;
  beforeEach(async () => {
    db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('outbox') });
    await ensureTable(db);
  });

  it('lists up to a hundred events each, keyed by the first, per tenant and day', async () => {
    const many = created('ten_a', 250);
    const other = created('ten_b', 2);
    const nextDay = created('ten_b', 1, '2030-01-02T00:00:00.000Z');
    await writeEventLog(db, [...many, ...other, ...nextDay]);

    const markers = await outbox(db);
    expect(markers.map((m) => m.cursors!.length).sort((a, b) => a - b)).toEqual([1, 2, 50, MARKER_CURSORS, MARKER_CURSORS]);
    const cursorsOf = (entries: LoggedEvent[]) => entries.map((e) => e.cursor).sort();
    expect(markers.filter((m) => m.tenantId === 'ten_a').flatMap((m) => m.cursors!).sort()).toEqual(cursorsOf(many));
    for (const marker of markers) expect(marker.sk.startsWith(`O#${marker.cursors![0]}#`)).toBe(true);

    // The same events give the same markers: logging them again adds none.
    await writeEventLog(db, [...many, ...other, ...nextDay]);
    expect(await outbox(db)).toHaveLength(5);
  });

  it('publishes every event once and empties the outbox', async () => {
    const events = [...created('ten_a', 150), ...created('ten_b', 3)];
    await writeEventLog(db, events);
    const { publisher, taken } = bus();
    expect(await publishOutboxRound(db, publisher)).toMatchObject({ published: 153, failed: 0 });
    expect(taken.map((e) => e.id).sort()).toEqual(events.map((e) => e.event.id).sort());
    expect(await outbox(db)).toEqual([]);
  });

  it('keeps listed only what the bus refused, and publishes it later', async () => {
    const events = created('ten_a', 10);
    await writeEventLog(db, events);
    const refused = new Set([events[2]!.event.id, events[7]!.event.id]);
    const first = bus(refused);
    expect(await publishOutboxRound(db, first.publisher)).toMatchObject({ published: 8, failed: 2 });
    expect((await outbox(db)).map((m) => m.cursors)).toEqual([[events[2]!.cursor, events[7]!.cursor].sort()]);

    const second = bus();
    expect(await publishOutboxRound(db, second.publisher)).toMatchObject({ published: 2, failed: 0 });
    expect(second.taken.map((e) => e.id).sort()).toEqual([...refused].sort());
    expect(await outbox(db)).toEqual([]);
  });

  it('leaves an event whose log row is not written yet waiting, alone', async () => {
    const events = created('ten_a', 3);
    await writeEventLog(db, events);
    // As after a crash between the marker and the last row of a flush.
    await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.logEntry('ten_a', events[2]!.cursor.slice(0, 10), events[2]!.cursor) }));
    const { publisher, taken } = bus();
    expect(await publishOutboxRound(db, publisher)).toMatchObject({ published: 2, failed: 0 });
    expect(taken).toHaveLength(2);
    expect((await outbox(db)).map((m) => m.cursors)).toEqual([[events[2]!.cursor]]);
  });

  it('keeps listing the events of a flush a crash cut short, beside the marker of the re-run', async () => {
    const events = created('ten_a', 5);
    await writeEventLog(db, events);
    // The crash came after the marker and every row but the first cursor's.
    const first = [...events].sort((a, b) => a.cursor.localeCompare(b.cursor))[0]!;
    await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.logEntry('ten_a', first.cursor.slice(0, 10), first.cursor) }));
    const carried = await unlogged(db, events);
    expect(carried).toEqual([first]);
    await writeEventLog(db, carried);
    expect((await outbox(db)).map((m) => m.cursors!.length).sort()).toEqual([1, 5]);

    const { publisher, taken } = bus();
    expect(await publishOutboxRound(db, publisher)).toMatchObject({ published: 5, failed: 0 });
    expect(taken.map((e) => e.id).sort()).toEqual(events.map((e) => e.event.id).sort());
    expect(await outbox(db)).toEqual([]);
  });

  it('publishes markers written one per event, before markers listed their events', async () => {
    const [entry] = created('ten_a', 1);
    await writeEventLog(db, [entry!], { markers: false });
    const { cursor, event } = entry!;
    await db.doc.send(
      new PutCommand({ TableName: db.table, Item: { ...keys.outboxMarker('ten_a', cursor.slice(0, 10), cursor), tenantId: 'ten_a', qpk: keys.queue.outbox, qsk: `${cursor}#ten_a` } }),
    );
    const { publisher, taken } = bus();
    expect(await publishOutboxRound(db, publisher)).toMatchObject({ published: 1 });
    expect(taken.map((e) => e.id)).toEqual([event.id]);
    expect(await outbox(db)).toEqual([]);
  });
});
