import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { VersionConflictError } from '../core/errors.ts';
import type { EventEnvelope } from '../core/events.ts';
import { itemIdForRef } from '../core/ids.ts';
import { containerKey, personKeys } from '../core/item-filter.ts';
import type { Link, WorkItem } from '../core/work-item.ts';
import { batchWrite } from './batch.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { readPartition } from './partition.ts';
import { leaveQueue } from './queue.ts';

/**
 * The item record is the unit of consistency: it holds the item, the events its changes caused
 * and that are not yet published (a single-item outbox), and a write counter `rev`. Every write
 * is one conditional put or update of this record, so a state change and its events become
 * durable together, without transactions.
 */
export interface ItemRecord {
  tenantId: string;
  item: WorkItem | undefined;
  /** write counter for optimistic concurrency; 0 when the record does not exist */
  rev: number;
  pending: EventEnvelope[];
}

export interface StoredPending {
  seq: number;
  event: string;
}

/** Index sort keys must compare as strings: one ISO format with milliseconds. */
export const isoKey = (time: string): string => new Date(time).toISOString();

export const decodePending = (raw: Record<string, StoredPending> | undefined): EventEnvelope[] =>
  Object.values(raw ?? {})
    .sort((a, b) => a.seq - b.seq)
    .map((p) => JSON.parse(p.event) as EventEnvelope);

const toRecord = (tenantId: string, row: Record<string, unknown> | undefined): ItemRecord => ({
  tenantId,
  item: row?.doc ? (JSON.parse(String(row.doc)) as WorkItem) : undefined,
  rev: Number(row?.rev ?? 0),
  pending: decodePending(row?.pending as Record<string, StoredPending> | undefined),
});

export const loadItem = async (db: Db, tenantId: string, itemId: string): Promise<ItemRecord> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.item(tenantId, itemId), ConsistentRead: true }));
  return toRecord(tenantId, Item);
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

/**
 * Writes the next state of an item together with its new events, if nobody wrote the record
 * since `previous` was read; throws VersionConflictError otherwise (re-read and retry).
 */
/** The item record as stored: the item, its unpublished events, filter copies and index keys. */
export const itemRecordOf = (tenantId: string, item: WorkItem, rev: number, events: readonly EventEnvelope[]): Record<string, unknown> => {
  const pending: Record<string, StoredPending> = {};
  events.forEach((event, index) => {
    pending[event.id] = { seq: (rev - 1) * 1000 + index, event: JSON.stringify(event) };
  });
  const sortKey = keys.byUpdated(isoKey(item.updatedAt), item.id);
  return {
    ...keys.item(tenantId, item.id),
    tenantId,
    doc: JSON.stringify(item),
    rev,
    pending,
    ...filterAttributes(item),
    gsi1pk: keys.itemsOf(tenantId),
    gsi1sk: sortKey,
    gsi2pk: keys.itemsByStatus(tenantId, item.status.category),
    gsi2sk: sortKey,
    gsi3pk: keys.itemsByContainer(tenantId, containerKey(item)),
    gsi3sk: sortKey,
    ...(events.length > 0 ? { qpk: keys.queue.outbox, qsk: `${events[0]!.time}#${keys.item(tenantId, item.id).pk}` } : {}),
  };
};

/**
 * Writes the next state of an item together with its new events, if nobody wrote the record
 * since `previous` was read; throws VersionConflictError otherwise (re-read and retry).
 */
export const saveItem = async (db: Db, previous: ItemRecord, item: WorkItem, events: EventEnvelope[]): Promise<void> => {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: itemRecordOf(previous.tenantId, item, previous.rev + 1, [...previous.pending, ...events]),
        ConditionExpression: previous.rev === 0 ? 'attribute_not_exists(pk)' : 'rev = :rev',
        ...(previous.rev === 0 ? {} : { ExpressionAttributeValues: { ':rev': previous.rev } }),
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(item.ref);
    throw error;
  }
};

const FACETS = {
  owner: (item: WorkItem) => [...new Set(item.owners.flatMap(personKeys))],
  label: (item: WorkItem) => item.labels,
} as const;

/** One index row per owner key and label (the multi-valued filters), carrying the filter copies. */
export const facetRowsOf = (tenantId: string, item: WorkItem): Record<string, unknown>[] => {
  if (item.deleted) return [];
  const sortKey = keys.byUpdated(isoKey(item.updatedAt), item.id);
  return Object.entries(FACETS).flatMap(([name, valuesOf]) =>
    valuesOf(item).map((value) => ({
      ...keys.facet(tenantId, item.id, name, value),
      gsi1pk: keys.itemsByFacet(tenantId, name, value),
      gsi1sk: sortKey,
      itemId: item.id,
      ...filterAttributes(item),
    })),
  );
};

/** A reverse edge at each link target, so the target finds who links to it (even before it is indexed). */
export const incomingEdgeRowsOf = (tenantId: string, item: WorkItem, links: readonly Link[] = item.links): Record<string, unknown>[] =>
  links.map((link) => ({ ...keys.incomingEdge(tenantId, itemIdForRef(link.target), item.id, link.type), from: item.ref, link }));

/**
 * Rewrites the derived rows of an item from its current state: one row per owner key and label
 * (the multi-valued filters) and a reverse edge at each link target. Idempotent, so it runs after
 * every save and on every re-run; rows of values the item no longer has are deleted when
 * `previous` is known, and ignored by readers otherwise (queries re-check the item itself).
 */
export const syncDerivedRows = async (db: Db, tenantId: string, item: WorkItem, previous: WorkItem | undefined): Promise<void> => {
  const puts = facetRowsOf(tenantId, item);
  const deletes: { pk: string; sk: string }[] = [];
  for (const [name, valuesOf] of Object.entries(FACETS)) {
    const kept = new Set(item.deleted ? [] : valuesOf(item));
    for (const value of previous ? valuesOf(previous) : []) {
      if (!kept.has(value)) deletes.push(keys.facet(tenantId, item.id, name, value));
    }
  }
  // Reverse edges of links the item already held are in place; a re-run (no `previous`) writes them all.
  const held = new Set((previous?.links ?? []).map((l) => JSON.stringify(l)));
  puts.push(...incomingEdgeRowsOf(tenantId, item, item.links.filter((l) => !held.has(JSON.stringify(l)))));
  const current = new Set(item.links.map((l) => `${l.type} ${l.target}`));
  for (const link of previous?.links ?? []) {
    if (!current.has(`${link.type} ${link.target}`)) deletes.push(keys.incomingEdge(tenantId, itemIdForRef(link.target), item.id, link.type));
  }
  await batchWrite(db, [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))]);
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
  return { item: itemRow?.doc ? (JSON.parse(String(itemRow.doc)) as WorkItem) : undefined, incoming };
};

/** The item and everything stored in its partition: reverse edges come with it in one query. */
export const loadItemWithIncoming = async (db: Db, tenantId: string, itemId: string) =>
  parseItemPartition(await readPartition(db, keys.item(tenantId, itemId).pk));

/** Items whose records hold unpublished events (sparse queue index; discovery only). */
export const listItemsWithPendingEvents = async (db: Db, limit = 100): Promise<{ tenantId: string; itemId: string; sk: string }[]> => {
  const { Items } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'queue',
      KeyConditionExpression: 'qpk = :q',
      ExpressionAttributeValues: { ':q': keys.queue.outbox },
      Limit: limit,
    }),
  );
  // Alert records (sk ALERT#…) live in their subject's partition and join the same queue.
  return (Items ?? []).map((row) => ({ tenantId: String(row.tenantId), itemId: String(row.pk).split('#ITEM#')[1]!, sk: String(row.sk) }));
};


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
  record: { rev: number; pending: EventEnvelope[] },
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
