import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { VersionConflictError } from '../core/errors.ts';
import type { EventEnvelope } from '../core/events.ts';
import { type LoggedEvent, eventCursor } from './event-log.ts';
import { itemIdForRef } from '../core/ids.ts';
import { containerKey, personKeys } from '../core/item-filter.ts';
import type { Link, WorkItem } from '../core/work-item.ts';
import { LARGE_ROWS_PER_REQUEST, type WriteRequest, batchGet, batchWrite } from './batch.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { readPartition } from './partition.ts';
import { decodeStoredEvent, encodeStoredEvent } from './stored-event.ts';
import { decodeItemDoc, encodeItemDoc, itemDocJson } from './item-codec.ts';
import { inboundMarkersComplete } from './schema-state.ts';
import { leaveQueue } from './queue.ts';

/**
 * The item record is the unit of consistency: it holds the item, the events its latest changes
 * caused with their log cursors (`pending`, see store/event-log.ts), and a write counter `rev`.
 * Every write is one conditional put of this record, so a state change and its events become
 * durable together, without transactions; the events' log rows are written right after, and a
 * later writer carries forward the ones a crash kept from the log.
 */
export interface ItemRecord {
  tenantId: string;
  item: WorkItem | undefined;
  /** write counter for optimistic concurrency; 0 when the record does not exist */
  rev: number;
  pending: LoggedEvent[];
  /** on the outbox queue: written before the event log, its events are drained from the record itself (bus/drain-outbox.ts) */
  queued: boolean;
}

export interface StoredPending {
  seq: number;
  /** the event (store/stored-event.ts) */
  event: Uint8Array | string;
  /** the event's log cursor, when it is not the one derived from `seq` (an event carried from an earlier write) */
  cursor?: string;
}

/** Index sort keys must compare as strings: one ISO format with milliseconds. */
export const isoKey = (time: string): string => new Date(time).toISOString();

/**
 * The pending events of a record, in the order they were written, with their log cursors;
 * `against`: an item record's item JSON, which its events are stored against (store/stored-event.ts).
 */
export const decodePending = (raw: Record<string, StoredPending> | undefined, record: { pk: string; sk: string }, against?: string): LoggedEvent[] =>
  Object.values(raw ?? {})
    .sort((a, b) => a.seq - b.seq)
    .map((p) => {
      const event = decodeStoredEvent(p.event, against);
      return { event, cursor: p.cursor ?? eventCursor(event.time, record, p.seq) };
    });

/**
 * The stored form of pending events: a map by event id, so the publisher of a queued record can
 * remove exactly what it published. A cursor is stored only when it is not the one `seq` gives.
 */
export const encodePending = (
  entries: readonly LoggedEvent[],
  record: { pk: string; sk: string },
  seqOf: (index: number) => number,
  against?: string,
): Record<string, StoredPending> =>
  Object.fromEntries(
    entries.map(({ event, cursor }, index) => {
      const seq = seqOf(index);
      return [event.id, { seq, event: encodeStoredEvent(event, against), ...(cursor === eventCursor(event.time, record, seq) ? {} : { cursor }) }];
    }),
  );

const toRecord = (tenantId: string, itemId: string, row: Record<string, unknown> | undefined): ItemRecord => {
  const json = row?.doc ? itemDocJson(row.doc) : undefined;
  return {
    tenantId,
    item: json ? (JSON.parse(json) as WorkItem) : undefined,
    rev: Number(row?.rev ?? 0),
    pending: decodePending(row?.pending as Record<string, StoredPending> | undefined, keys.item(tenantId, itemId), json),
    queued: row?.qpk !== undefined,
  };
};

export const loadItem = async (db: Db, tenantId: string, itemId: string): Promise<ItemRecord> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.item(tenantId, itemId), ConsistentRead: true }));
  return toRecord(tenantId, itemId, Item);
};

/** The records of many items at once (strongly consistent BatchGetItem, in requests of {@link LARGE_ROWS_PER_REQUEST} keys). */
export const loadItems = async (db: Db, tenantId: string, itemIds: readonly string[]): Promise<Map<string, ItemRecord>> => {
  const rows = await batchGet(
    db,
    itemIds.map((id) => keys.item(tenantId, id)),
    { consistent: true, keysPerRequest: LARGE_ROWS_PER_REQUEST },
  );
  const byPk = new Map(rows.map((row) => [String(row.pk), row]));
  return new Map(itemIds.map((id) => [id, toRecord(tenantId, id, byPk.get(keys.item(tenantId, id).pk))]));
};

/** Top-level copies of the filterable fields, so index queries can filter server-side. */
const filterAttributes = (item: WorkItem) => ({
  src: item.source,
  kind: item.kind,
  cat: item.category,
  stat: item.status.category,
  cont: containerKey(item),
  ...(item.deleted ? { del: 1 } : {}),
});

/** The `seq` of the `index`th pending event of a record's write number `rev`: what its derived cursor is made of. */
const pendingSeq = (rev: number, index: number): number => (rev - 1) * 1000 + index;

/**
 * The events write number `rev` of an item record carries, in order: those carried from earlier
 * writes with their cursors, then the new ones with the cursors their seq gives.
 */
export const pendingOf = (
  tenantId: string,
  itemId: string,
  rev: number,
  events: readonly EventEnvelope[],
  carried: readonly LoggedEvent[] = [],
): LoggedEvent[] => {
  const key = keys.item(tenantId, itemId);
  return [...carried, ...events.map((event, index) => ({ event, cursor: eventCursor(event.time, key, pendingSeq(rev, carried.length + index)) }))];
};

/** The item record as stored: the item and its pending events (compressed: store/item-codec.ts), filter copies and index keys. */
export const itemRecordOf = (tenantId: string, item: WorkItem, rev: number, pending: readonly LoggedEvent[]): Record<string, unknown> => {
  const sortKey = keys.byUpdated(isoKey(item.updatedAt), item.id);
  const json = JSON.stringify(item);
  return {
    ...keys.item(tenantId, item.id),
    tenantId,
    doc: encodeItemDoc(json),
    rev,
    pending: encodePending(pending, keys.item(tenantId, item.id), (index) => pendingSeq(rev, index), json),
    ...filterAttributes(item),
    gsi1pk: keys.itemsOf(tenantId),
    gsi1sk: sortKey,
    gsi2pk: keys.itemsByStatus(tenantId, item.status.category),
    gsi2sk: sortKey,
    gsi3pk: keys.itemsByContainer(tenantId, containerKey(item)),
    gsi3sk: sortKey,
  };
};

/**
 * Writes the next state of an item with the events it causes, if nobody wrote the record since
 * `previous` was read; throws VersionConflictError otherwise (re-read and retry). `carried`: events
 * of earlier writes that have no log row yet (store/event-log.ts `unlogged`), kept with the record
 * until they do. Resolves with the events to log now: the carried ones, then the new ones.
 */
export const saveItem = async (
  db: Db,
  previous: ItemRecord,
  item: WorkItem,
  events: readonly EventEnvelope[],
  carried: readonly LoggedEvent[] = [],
): Promise<LoggedEvent[]> => {
  const rev = previous.rev + 1;
  const entries = pendingOf(previous.tenantId, item.id, rev, events, carried);
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: itemRecordOf(previous.tenantId, item, rev, entries),
        ConditionExpression: previous.rev === 0 ? 'attribute_not_exists(pk)' : 'rev = :rev',
        ...(previous.rev === 0 ? {} : { ExpressionAttributeValues: { ':rev': previous.rev } }),
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(item.ref);
    throw error;
  }
  return entries;
};

const FACETS = {
  owner: (item: WorkItem) => [...new Set(item.owners.flatMap(personKeys))],
  label: (item: WorkItem) => item.labels,
} as const;

/**
 * One entry per owner key and label (the multi-valued filters), in the partition of that value
 * and sorted by the item's last update: a list by owner or label is one query of the table. Each
 * carries the filter copies, so a page is checked before its items are read.
 */
export const facetRowsOf = (tenantId: string, item: WorkItem): Record<string, unknown>[] => {
  if (item.deleted) return [];
  return Object.entries(FACETS).flatMap(([name, valuesOf]) =>
    valuesOf(item).map((value) => ({
      ...keys.facetEntry(tenantId, name, value, isoKey(item.updatedAt), item.id),
      itemId: item.id,
      ...filterAttributes(item),
    })),
  );
};

/** A reverse edge at each link target, so the target finds who links to it (even before it is indexed). */
export const incomingEdgeRowsOf = (tenantId: string, item: WorkItem, links: readonly Link[] = item.links): Record<string, unknown>[] =>
  links.map((link) => ({ ...keys.incomingEdge(tenantId, itemIdForRef(link.target), item.id, link.type), from: item.ref, link }));

/**
 * The writes that bring the derived rows of an item to its current state: one entry per owner key
 * and label (the multi-valued filters) and a reverse edge at each link target, with the target
 * partition's inbound marker. Idempotent, so they run after every save and on every re-run; the
 * entries of the previous state are deleted when `previous` is known, and ignored by readers
 * otherwise (queries re-check the item itself, and skip an entry older than its item's update).
 */
export const derivedRowWrites = (tenantId: string, item: WorkItem, previous: WorkItem | undefined): WriteRequest[] => {
  const puts = facetRowsOf(tenantId, item);
  // The previous state's entries that are not the current ones: another value, or the same one at its former update time.
  const entries = new Set(puts.map((row) => `${row.pk}\u0000${row.sk}`));
  const deletes = (previous ? facetRowsOf(tenantId, previous) : [])
    .map(({ pk, sk }) => ({ pk: String(pk), sk: String(sk) }))
    .filter((key) => !entries.has(`${key.pk}\u0000${key.sk}`));
  // Reverse edges of links the item already held are in place; a re-run (no `previous`) writes them all.
  const held = new Set((previous?.links ?? []).map((l) => JSON.stringify(l)));
  const added = item.links.filter((l) => !held.has(JSON.stringify(l)));
  puts.push(...incomingEdgeRowsOf(tenantId, item, added));
  puts.push(...added.map((link) => inboundMarkerRow(tenantId, itemIdForRef(link.target))));
  const current = new Set(item.links.map((l) => `${l.type} ${l.target}`));
  for (const link of previous?.links ?? []) {
    if (!current.has(`${link.type} ${link.target}`)) deletes.push(keys.incomingEdge(tenantId, itemIdForRef(link.target), item.id, link.type));
  }
  return [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))];
};

/** Writes {@link derivedRowWrites}. */
export const syncDerivedRows = (db: Db, tenantId: string, item: WorkItem, previous: WorkItem | undefined): Promise<void> =>
  batchWrite(db, derivedRowWrites(tenantId, item, previous));

/**
 * The marker of a partition in which rows of other items may wait: a reverse edge (`IN#`) or a
 * change kept until the item arrives (`PENDING#`). Written with them and never removed, it lets the
 * processor read one small row per new item, in a batch, instead of querying every partition.
 */
export const inboundMarkerRow = (tenantId: string, itemId: string): Record<string, unknown> => ({ ...keys.inbound(tenantId, itemId), tenantId });

/** Which of `itemIds` have an inbound marker (strongly consistent BatchGetItem), or may have rows waiting without one. */
export const withInboundRows = async (db: Db, tenantId: string, itemIds: readonly string[]): Promise<Set<string>> => {
  // A table still being upgraded has partitions with reverse edges and no marker yet: all may have.
  if (!(await inboundMarkersComplete(db))) return new Set(itemIds);
  const rows = await batchGet(
    db,
    itemIds.map((id) => keys.inbound(tenantId, id)),
    { consistent: true },
  );
  return new Set(rows.map((row) => String(row.pk).split('#ITEM#')[1]!));
};

/** A link some other item holds to this one, read from the reverse edge rows. */
export interface IncomingLink {
  fromId: string;
  from: string;
  link: Link;
}

/** The item and the reverse edges stored in its partition, from that partition's rows. */
export const parseItemPartition = (rows: readonly Record<string, unknown>[]): { item: WorkItem | undefined; incoming: IncomingLink[] } => {
  const itemRow = rows.find((r) => r.sk === 'ITEM');
  const incoming = rows
    .filter((r) => String(r.sk).startsWith('IN#'))
    .map((r) => ({ fromId: String(r.sk).split('#')[1]!, from: String(r.from), link: r.link as Link }));
  return { item: itemRow?.doc ? decodeItemDoc(itemRow.doc) : undefined, incoming };
};

/** The item and everything stored in its partition: reverse edges come with it in one query. */
export const loadItemWithIncoming = async (db: Db, tenantId: string, itemId: string) =>
  parseItemPartition(await readPartition(db, keys.item(tenantId, itemId).pk));

/**
 * Removes published events from the record. Only the named events are removed, so events added
 * meanwhile stay; the record leaves the outbox queue once nothing is pending.
 */
export const removePublishedEvents = async (db: Db, record: ItemRecord, itemId: string, eventIds: string[]): Promise<void> =>
  removePublishedEventsAt(db, keys.item(record.tenantId, itemId), record, eventIds);

/** {@link removePublishedEvents} for any record holding `rev` and `pending` (items, alerts). */
export const removePublishedEventsAt = async (
  db: Db,
  key: { pk: string; sk: string },
  record: { rev: number; pending: readonly unknown[] },
  eventIds: string[],
): Promise<void> => {
  if (eventIds.length === 0) return leaveQueue(db, key, 'rev', record.rev);
  const removals = eventIds.map((_, i) => `pending.#e${i}`).join(', ');
  const names = Object.fromEntries(eventIds.map((id, i) => [`#e${i}`, id]));
  if (eventIds.length === record.pending.length) {
    // The common case, in one write: everything read was published and nobody wrote since.
    try {
      await db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: key,
          UpdateExpression: `REMOVE ${removals}, qpk, qsk ADD rev :one`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':one': 1, ':rev': record.rev },
          ConditionExpression: 'rev = :rev',
        }),
      );
      return;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  const { Attributes } = await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: key,
      UpdateExpression: `REMOVE ${removals} ADD rev :one`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':one': 1 },
      ConditionExpression: 'attribute_exists(pk)',
      ReturnValues: 'ALL_NEW',
    }),
  );
  if (Object.keys(Attributes?.pending ?? {}).length === 0) await leaveQueue(db, key, 'rev', Number(Attributes?.rev));
};
