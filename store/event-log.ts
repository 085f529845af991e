import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from '../core/events.ts';
import { sha256Hex } from '../core/ids.ts';
import { DEFAULT_RETENTION, expiryAfter } from '../core/retention.ts';
import { type WriteRequest, batchGet, batchWrite } from './batch.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { decodeStoredEvent, encodeStoredEvent } from './stored-event.ts';

/**
 * The event log: every event the hub publishes, kept in the table, ordered per tenant by a cursor
 * and readable per subject. It is also the outbox: the log rows a batch writes are written with
 * small markers on the `queue` index (`outbox`), one per tenant and day listing the cursors of up
 * to {@link MARKER_CURSORS} events, which the publisher deletes once the bus took those events (a
 * marker per event cost 4 write units per delivery: one of a hundred, 0.1).
 *
 * Events still travel with the state that causes them: a record's write carries its new events
 * (`pending`, with their cursors), and the log rows are derived from them afterwards, with
 * deterministic keys, so writing them again is harmless. Before a record is written again, the
 * writer checks which of its pending events have a log row ({@link unlogged}) and carries the others
 * into the new write: a crash between a record write and its log rows neither loses nor invents an
 * event, and without transactions.
 *
 * Cursors sort as strings: the event's time, then the record it was written with, then its order
 * there, so a record's events keep their order, and a re-written row lands where it was.
 */
export interface LoggedEvent {
  event: EventEnvelope;
  /** the event's position in its tenant's log (SSE `id:`, `?after=`) */
  cursor: string;
}

/** The cursor of an event written with `record` as its `seq`th event: deterministic. */
export const eventCursor = (time: string, record: { pk: string; sk: string }, seq: number): string =>
  `${new Date(time).toISOString()}.${sha256Hex(`${record.pk}\u0000${record.sk}`).slice(0, 10)}.${String(seq).padStart(10, '0')}`;

/** The day partition a cursor's row lives in. */
const dayOf = (cursor: string): string => cursor.slice(0, 10);

const logKey = (tenantId: string, cursor: string) => keys.logEntry(tenantId, dayOf(cursor), cursor);

/**
 * A marker's key: its first cursor, and a digest of all of them. The same events give the same
 * marker, and a re-run that logs only some of them (those a crash left without a row) writes a
 * marker of its own, never over one that still lists events whose rows were written.
 */
const markerKey = (tenantId: string, cursors: readonly string[]) =>
  keys.outboxMarker(tenantId, dayOf(cursors[0]!), `${cursors[0]!}#${sha256Hex(cursors.join('\u0000')).slice(0, 12)}`);

/** The most cursors one outbox marker lists: a marker of a hundred is about 6 KB. */
export const MARKER_CURSORS = 100;

/** The entries in markers' groups: by tenant and day (a marker lives in its log partition), in cursor order, at most MARKER_CURSORS each. */
const markerGroups = (entries: readonly LoggedEvent[]): LoggedEvent[][] => {
  const groups = new Map<string, LoggedEvent[][]>();
  for (const entry of [...entries].sort((a, b) => a.cursor.localeCompare(b.cursor))) {
    const partition = `${entry.event.tenantId}\u0000${dayOf(entry.cursor)}`;
    const chunks = groups.get(partition) ?? [];
    if (chunks.length === 0 || chunks.at(-1)!.length === MARKER_CURSORS) chunks.push([]);
    chunks.at(-1)!.push(entry);
    groups.set(partition, chunks);
  }
  return [...groups.values()].flat();
};

const expiryOf = (db: Db, event: EventEnvelope) => expiryAfter(event.time, (db.retention ?? DEFAULT_RETENTION).eventDays);

/** The outbox markers of `entries`: each lists the cursors of up to 100 events of one tenant and day. */
export const outboxMarkerWrites = (db: Db, entries: readonly LoggedEvent[]): WriteRequest[] =>
  markerGroups(entries).map((group) => {
    const { tenantId } = group[0]!.event;
    const cursors = group.map((entry) => entry.cursor);
    return {
      PutRequest: {
        Item: {
          ...markerKey(tenantId, cursors),
          tenantId,
          cursors,
          qpk: keys.queue.outbox,
          qsk: `${cursors[0]!}#${tenantId}`,
          expiresAt: Math.max(...group.map((entry) => expiryOf(db, entry.event))),
        },
      },
    };
  });

/** The log rows of `entries`: write them only once their outbox markers are written ({@link logWrites}). */
export const logRowWrites = (db: Db, entries: readonly LoggedEvent[]): WriteRequest[] =>
  entries.map(({ event, cursor }) => ({
    PutRequest: {
      Item: {
        ...logKey(event.tenantId, cursor),
        tenantId: event.tenantId,
        evt: encodeStoredEvent(event),
        gsi2pk: keys.eventsOfSubject(event.tenantId, event.subject),
        gsi2sk: cursor,
        expiresAt: expiryOf(db, event),
      },
    },
  }));

/**
 * The outbox markers (unless `markers: false`) and then the log rows of the events, for one
 * BatchWriteItem flush in order (store/batch.ts). Markers first: a crash between two requests must
 * not leave a log row without its marker, since a re-run carries only the events without a log row
 * ({@link unlogged}): such an event would never be published. A marker's cursor without its row
 * waits, unpublished, until the re-run writes the row.
 */
export const logWrites = (db: Db, entries: readonly LoggedEvent[], options: { markers?: boolean } = {}): WriteRequest[] => [
  ...(options.markers === false ? [] : outboxMarkerWrites(db, entries)),
  ...logRowWrites(db, entries),
];

/** Writes the log rows and outbox markers of `entries` (idempotent). */
export const writeEventLog = (db: Db, entries: readonly LoggedEvent[], options: { markers?: boolean } = {}): Promise<void> =>
  batchWrite(db, logWrites(db, entries, options));

/** The entries among `entries` that have no log row yet (a crash came between their record's write and the log). */
export const unlogged = async (db: Db, entries: readonly LoggedEvent[]): Promise<LoggedEvent[]> => {
  if (entries.length === 0) return [];
  const rows = await batchGet(
    db,
    entries.map(({ event, cursor }) => logKey(event.tenantId, cursor)),
    { consistent: true },
  );
  const present = new Set(rows.map((row) => `${row.pk}\u0000${row.sk}`));
  return entries.filter(({ event, cursor }) => {
    const key = logKey(event.tenantId, cursor);
    return !present.has(`${key.pk}\u0000${key.sk}`);
  });
};

/** An outbox marker as the queue index lists it: the events it stands for, by cursor. */
export interface OutboxMarker {
  pk: string;
  sk: string;
  tenantId: string;
  cursors: string[];
}

/** Whether a row on the outbox queue is a log marker (the others are records holding events of an earlier version). */
export const isOutboxMarker = (row: { sk: string }): boolean => row.sk.startsWith(keys.outboxMarkerPrefix);

/** The marker of a queued row: its `cursors`, or, written before markers listed them, the one cursor of its key. */
export const markerOf = (row: { pk: string; sk: string; tenantId: string; cursors?: readonly string[] }): OutboxMarker => ({
  pk: row.pk,
  sk: row.sk,
  tenantId: row.tenantId,
  cursors: row.cursors ? [...row.cursors] : [row.sk.slice(keys.outboxMarkerPrefix.length)],
});

/**
 * The logged events the markers stand for, each once (a re-run after a crash may have listed it in
 * a second marker), in cursor order; a cursor whose row is not written yet is left out.
 */
export const readMarkedEvents = async (db: Db, markers: readonly OutboxMarker[]): Promise<LoggedEvent[]> => {
  const keysByCursor = new Map(markers.flatMap((marker) => marker.cursors.map((cursor) => [cursor, logKey(marker.tenantId, cursor)] as const)));
  const rows = await batchGet(db, [...keysByCursor.values()], { consistent: true });
  return eventsOfRows(rows).sort((a, b) => a.cursor.localeCompare(b.cursor));
};

/**
 * Takes the published events off the outbox: a marker all of whose events the bus took is deleted
 * (in batches), one with events left keeps only those (failed by the bus, or their row not written
 * yet), for a later round. Resolves with those of `markers` that still wait.
 */
export const settleOutboxMarkers = async (db: Db, markers: readonly OutboxMarker[], published: ReadonlySet<string>): Promise<OutboxMarker[]> => {
  const settled = markers.map((marker) => ({ marker, left: marker.cursors.filter((cursor) => !published.has(cursor)) }));
  await batchWrite(
    db,
    settled.filter(({ left }) => left.length === 0).map(({ marker }) => ({ DeleteRequest: { Key: { pk: marker.pk, sk: marker.sk } } })),
  );
  for (const { marker, left } of settled.filter(({ marker, left }) => left.length > 0 && left.length < marker.cursors.length)) {
    try {
      await db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: { pk: marker.pk, sk: marker.sk },
          UpdateExpression: 'SET cursors = :c',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':c': left },
        }),
      );
    } catch (error) {
      // Another round took the marker off the outbox first: what it listed was published.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  return settled.filter(({ left }) => left.length > 0).map(({ marker }) => marker);
};

const eventsOfRows = (rows: readonly Record<string, unknown>[]): LoggedEvent[] =>
  rows.map((row) => ({ event: decodeStoredEvent(row.evt), cursor: String(row.sk).slice(2) }));

/**
 * A tenant's events after `after` (exclusive; from the oldest kept when absent), oldest first, at
 * most `limit`: how a stream resumes and a replay reads. Day partitions are read in order from the
 * cursor's day up to `until`'s (today).
 */
export const readTenantLog = async (db: Db, tenantId: string, options: { after?: string; limit: number; until: Date }): Promise<LoggedEvent[]> => {
  const out: LoggedEvent[] = [];
  const lastDay = options.until.toISOString().slice(0, 10);
  const retentionMs = (db.retention ?? DEFAULT_RETENTION).eventDays * 86_400_000;
  const after = options.after ?? '';
  const firstDay = options.after ? dayOf(options.after) : new Date(options.until.getTime() - retentionMs).toISOString().slice(0, 10);
  for (let day = firstDay; day <= lastDay && out.length < options.limit; day = nextDay(day)) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.doc.send(
        new QueryCommand({
          TableName: db.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': keys.logEntry(tenantId, day, '').pk, ':from': `E#${after}\u0000`, ':to': 'E#\uffff' },
          Limit: options.limit - out.length,
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...eventsOfRows(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && out.length < options.limit);
  }
  return out;
};

const nextDay = (day: string): string => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** One subject's events (an item's ref, `person:p_…`, `team:{name}`), newest first, through the subject index. */
export const listSubjectEvents = async (
  db: Db,
  tenantId: string,
  subject: string,
  options: { limit: number; before?: string },
): Promise<{ items: LoggedEvent[]; nextCursor: string | null }> => {
  const { Items, LastEvaluatedKey } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'gsi2',
      KeyConditionExpression: options.before ? 'gsi2pk = :p AND gsi2sk < :before' : 'gsi2pk = :p',
      ExpressionAttributeValues: { ':p': keys.eventsOfSubject(tenantId, subject), ...(options.before ? { ':before': options.before } : {}) },
      ScanIndexForward: false,
      Limit: options.limit,
    }),
  );
  const items = eventsOfRows(Items ?? []);
  return { items, nextCursor: LastEvaluatedKey && items.length > 0 ? items.at(-1)!.cursor : null };
};
