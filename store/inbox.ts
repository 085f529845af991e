import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_RETENTION, ORPHAN_PART_DAYS, deliveryExpiry, expiryAfter } from '../core/retention.ts';
import type { Source } from '../core/work-item.ts';
import { LARGE_ROWS_PER_REQUEST, type WriteRequest, batchGet, batchWrite, splitIntoParts } from './batch.ts';
import { UnreadableBodyError, decodeBody, encodeBody } from './body-codec.ts';
import type { Db } from './db.ts';
import { type DeliveryStatus, LEGACY_INDEX_ATTRIBUTES, deliveryListingRow } from './delivery-index.ts';
import { keys } from './keys.ts';

/**
 * The inbox: every verified delivery, stored raw (compressed: store/body-codec.ts) before it is
 * acknowledged, so it can be processed after a crash and replayed when mapping rules change.
 */

export type { DeliveryStatus } from './delivery-index.ts';

export interface DeliveryRecord {
  pk: string;
  tenantId: string;
  connectionId: string;
  source: Source;
  deliveryId: string;
  event: string;
  headers: Record<string, string>;
  bodySha256: string;
  bodyBytes: number;
  receivedAt: string;
  status: DeliveryStatus;
  attempts: number;
  /** why the delivery was ignored or failed */
  reason?: string;
  processedAt?: string;
  /** when the table's TTL removes it (epoch seconds); absent while pending (see core/retention.ts) */
  expiresAt?: number;
  /** set when the body is stored in this many parts */
  bodyParts?: number;
  /** when an operator last re-queued it: names the try, so a run of an earlier try cannot finish this one */
  retriedAt?: string;
}

/**
 * DynamoDB caps an item at 400 KB (dynalite enforces it too). Compressed bodies up to this size
 * stay inline; larger ones are split into parts written before the delivery record. Shared with
 * every rewrite of a stored body (store/erasure-rewrites.ts).
 */
export const INLINE_BODY_BYTES = 300_000;

export interface NewDelivery extends Omit<DeliveryRecord, 'pk' | 'status' | 'attempts' | 'reason' | 'processedAt' | 'expiresAt' | 'bodyParts'> {
  body: Uint8Array;
}

const bodyPartWrites = (pk: string, bodySha: string, parts: readonly Buffer[], expiresAt?: number): WriteRequest[] =>
  parts.map((part, n) => ({ PutRequest: { Item: { ...keys.deliveryPart(pk, bodySha, n), part, ...(expiresAt === undefined ? {} : { expiresAt }) } } }));

/** Writes the parts of a compressed body under its hash; without `expiresAt` they never expire. */
export const writeBodyParts = (db: Db, pk: string, bodySha: string, parts: Buffer[], expiresAt?: number): Promise<void> =>
  // 300 KB parts in batches of 25 stay under BatchWriteItem's 16 MB request limit.
  batchWrite(db, bodyPartWrites(pk, bodySha, parts, expiresAt));

/**
 * The row a new delivery is recorded as: pending, on the processor's queue (which is also where the
 * deliveries listing finds it: store/delivery-index.ts), its body compressed inline, or in parts (to
 * be written before the row) when it is too large. It joins no other index.
 */
const newDeliveryRow = (delivery: NewDelivery): { pk: string; row: Record<string, unknown>; parts: WriteRequest[] } => {
  const { pk, sk } = keys.delivery(delivery.tenantId, delivery.source, delivery.deliveryId);
  const { body, ...meta } = delivery;
  const { compressed, encoding } = encodeBody(delivery.source, body);
  const parts = compressed.length > INLINE_BODY_BYTES ? splitIntoParts(compressed, INLINE_BODY_BYTES) : [];
  return {
    pk,
    parts: bodyPartWrites(pk, delivery.bodySha256, parts, expiryAfter(delivery.receivedAt, ORPHAN_PART_DAYS)),
    row: {
      pk,
      sk,
      ...meta,
      ...(parts.length > 0 ? { bodyParts: parts.length } : { body: compressed }),
      ...(encoding ? { bodyEncoding: encoding } : {}),
      status: 'pending',
      attempts: 0,
      // A pending delivery never expires (core/retention.ts); listed from the queue.
      qpk: keys.queue.inbox,
      qsk: `${delivery.receivedAt}#${pk}`,
    },
  };
};

/**
 * Records a delivery durably, once: a conditional put keyed by (tenant, source, delivery id).
 * Returns `duplicate` when that key is already recorded.
 */
export const recordDelivery = async (db: Db, delivery: NewDelivery): Promise<{ pk: string; status: 'accepted' | 'duplicate' }> => {
  const { pk, row, parts } = newDeliveryRow(delivery);
  if (parts.length > 0) await batchWrite(db, parts);
  try {
    await db.doc.send(new PutCommand({ TableName: db.table, Item: row, ConditionExpression: 'attribute_not_exists(pk)' }));
    return { pk, status: 'accepted' };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { pk, status: 'duplicate' };
    throw error;
  }
};

/**
 * Records many deliveries at once (a page read from a tool): one strongly consistent BatchGetItem
 * of their keys finds those recorded before (`duplicate`: a page read again after a crash), then
 * BatchWriteItem writes the others, 25 rows per request, body parts first. Resolves with each
 * delivery's key and status, in order; of an id given twice, the first is the one accepted.
 *
 * The writes are unconditional, unlike {@link recordDelivery}'s: only for a caller that alone
 * records these ids, such as a backfill job under its lease. A writer of the same id between the
 * read and the write (a second runner of the same job, a reconciliation reading the same state) is
 * overwritten with the same delivery, since the id names the record's state: at worst a processed
 * delivery is processed again, which changes nothing and publishes nothing new (the merge finds no
 * change from the same state; event ids are deterministic).
 */
export const recordDeliveries = async (db: Db, deliveries: readonly NewDelivery[]): Promise<{ pk: string; status: 'accepted' | 'duplicate' }[]> => {
  const pks = deliveries.map((d) => keys.delivery(d.tenantId, d.source, d.deliveryId).pk);
  const seen = new Set(
    (await batchGet(db, pks.map((pk) => ({ pk, sk: 'DLV' })), { consistent: true, attributes: ['pk'] })).map((row) => String(row.pk)),
  );
  const recorded = pks.map((pk) => {
    const status = seen.has(pk) ? ('duplicate' as const) : ('accepted' as const);
    seen.add(pk);
    return { pk, status };
  });
  const rows = deliveries.filter((_, i) => recorded[i]!.status === 'accepted').map(newDeliveryRow);
  // A row never names parts that are not written yet.
  await batchWrite(db, rows.flatMap((r) => r.parts));
  await batchWrite(db, rows.map((r) => ({ PutRequest: { Item: r.row } })));
  return recorded;
};

const META_ATTRIBUTES = [
  'pk',
  'tenantId',
  'connectionId',
  'source',
  'deliveryId',
  'event',
  'headers',
  'bodySha256',
  'bodyBytes',
  'receivedAt',
  'status',
  'attempts',
  'reason',
  'processedAt',
  'expiresAt',
  'bodyParts',
  'retriedAt',
] as const;

const toRecord = (item: Record<string, unknown>): DeliveryRecord =>
  Object.fromEntries(META_ATTRIBUTES.filter((k) => item[k] !== undefined).map((k) => [k, item[k]])) as unknown as DeliveryRecord;

export const getDelivery = async (db: Db, pk: string): Promise<(DeliveryRecord & { body: Uint8Array }) | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: { pk, sk: 'DLV' }, ConsistentRead: true }));
  return Item ? withBody(db, Item) : undefined;
};

/** A delivery with its body; `unreadable` (and an empty body) when its stored body cannot be read, and why. */
export type StoredDelivery = DeliveryRecord & { body: Uint8Array; unreadable?: string };

/** A delivery as the processor takes it: stored, and the row as read (to finish it in a batch). */
export type LoadedDelivery = StoredDelivery & { row: Record<string, unknown> };

/**
 * Many deliveries at once (strongly consistent BatchGetItem); the missing ones are left out. A body
 * that cannot be read is marked `unreadable`, to fail only its own delivery (processing/normalize.ts).
 */
export const loadDeliveries = async (db: Db, pks: readonly string[]): Promise<LoadedDelivery[]> => {
  const rows = await batchGet(
    db,
    pks.map((pk) => ({ pk, sk: 'DLV' })),
    { consistent: true, keysPerRequest: LARGE_ROWS_PER_REQUEST },
  );
  const byPk = new Map(rows.map((row) => [String(row.pk), row]));
  const loaded: LoadedDelivery[] = [];
  for (const pk of pks) {
    const row = byPk.get(pk);
    if (!row) continue;
    try {
      loaded.push({ ...(await withBody(db, row)), row });
    } catch (error) {
      if (!(error instanceof UnreadableBodyError)) throw error;
      loaded.push({ ...toRecord(row), body: new Uint8Array(), row, unreadable: error.message });
    }
  }
  return loaded;
};

const withBody = async (db: Db, Item: Record<string, unknown>): Promise<DeliveryRecord & { body: Uint8Array }> => {
  const record = toRecord(Item);
  const pk = record.pk;
  let compressed: Uint8Array;
  if (Item.bodyParts) {
    const parts: Uint8Array[] = [];
    for (let n = 0; n < Number(Item.bodyParts); n++) {
      const { Item: part } = await db.doc.send(
        new GetCommand({ TableName: db.table, Key: keys.deliveryPart(pk, record.bodySha256, n), ConsistentRead: true }),
      );
      if (!part) throw new Error(`Delivery ${pk} is missing body part ${n}`);
      parts.push(part.part as Uint8Array);
    }
    compressed = Buffer.concat(parts);
  } else {
    compressed = Item.body as Uint8Array;
  }
  return { ...record, body: decodeBody(compressed, Item.bodyEncoding) };
};

/** Deliveries still waiting for the processor, oldest first (sparse queue index; discovery only). */
export const listPendingDeliveries = async (db: Db, limit = 100): Promise<string[]> => {
  const { Items } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'queue',
      KeyConditionExpression: 'qpk = :q',
      ExpressionAttributeValues: { ':q': keys.queue.inbox },
      Limit: limit,
    }),
  );
  return (Items ?? []).map((i) => String(i.pk));
};

/** Gives the body parts of a delivery the expiry of their record. */
export const stampBodyParts = async (db: Db, pk: string, bodySha256: string, parts: number, expiresAt: number): Promise<void> => {
  for (let n = 0; n < parts; n++) {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.deliveryPart(pk, bodySha256, n),
        UpdateExpression: 'SET expiresAt = :e',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':e': expiresAt },
      }),
    );
  }
};

type FinalOutcome = { status: Exclude<DeliveryStatus, 'pending'>; reason?: string; at: string };

/** A delivery record with a final status, as written by a processor: off the queue, without the indexes' keys of old. */
const finishedFields = (db: Db, outcome: FinalOutcome) => ({
  status: outcome.status,
  processedAt: outcome.at,
  reason: outcome.reason ?? null,
  expiresAt: deliveryExpiry(db.retention ?? DEFAULT_RETENTION, outcome.status, outcome.at),
});

/** `REMOVE` names for the index keys a record written before listing rows may still carry. */
export const LEGACY_INDEX_REMOVALS = LEGACY_INDEX_ATTRIBUTES.join(', ');

/**
 * Makes a delivery's listing row agree with its record, read strongly consistently: the record's
 * status when it is finished; pending when it is queued again (its queue position is when, not when
 * it was received); none when it is listed from the queue, or gone. A listing row that a run of the
 * record's current try wrote for its finish (written before that record write lands) is left alone.
 * Called after a conditional write of the record failed, to undo a listing row written ahead of it.
 */
export const syncDeliveryListing = async (db: Db, pk: string): Promise<void> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: { pk, sk: 'DLV' }, ConsistentRead: true }));
  const listing = keys.deliveryListing(pk);
  if (!Item) {
    await db.doc.send(new DeleteCommand({ TableName: db.table, Key: listing }));
    return;
  }
  const record = toRecord(Item);
  if (record.status !== 'pending') {
    await db.doc.send(new PutCommand({ TableName: db.table, Item: deliveryListingRow(record) }));
    return;
  }
  const tryOf = record.retriedAt;
  const notAFinishOfThisTry = {
    ConditionExpression: `attribute_not_exists(pk) OR #s = :pending OR ${tryOf === undefined ? 'attribute_exists(retriedAt)' : 'attribute_not_exists(retriedAt) OR retriedAt <> :try'}`,
    ExpressionAttributeNames: { '#s': 'status' },
    ExpressionAttributeValues: { ':pending': 'pending', ...(tryOf === undefined ? {} : { ':try': tryOf }) },
  };
  try {
    if (String(Item.qsk ?? '').startsWith(`${record.receivedAt}#`)) {
      await db.doc.send(new DeleteCommand({ TableName: db.table, Key: listing, ...notAFinishOfThisTry }));
    } else {
      await db.doc.send(new PutCommand({ TableName: db.table, Item: deliveryListingRow(record), ...notAFinishOfThisTry }));
    }
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
};

/**
 * Leaves the queue with a final status, setting when it expires. Conditional on the try the caller
 * read: still pending, and not re-queued since (`retriedAt`), so a late run cannot overwrite what an
 * operator's retry or another run decided meanwhile. Its listing row is written first (a crash
 * after it leaves the record pending, to be finished again); when the condition fails, the listing
 * row is made to agree with the record again. Resolves false when the condition failed.
 */
export const finishDelivery = async (db: Db, delivery: DeliveryRecord, outcome: FinalOutcome): Promise<boolean> => {
  const finished = finishedFields(db, outcome);
  await db.doc.send(new PutCommand({ TableName: db.table, Item: deliveryListingRow({ ...delivery, ...finished }) }));
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: delivery.pk, sk: 'DLV' },
        UpdateExpression: `SET #s = :s, processedAt = :at, reason = :r, expiresAt = :e REMOVE qpk, qsk, ${LEGACY_INDEX_REMOVALS}`,
        ConditionExpression: `#s = :pending AND ${delivery.retriedAt === undefined ? 'attribute_not_exists(retriedAt)' : 'retriedAt = :try'}`,
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':s': finished.status,
          ':at': finished.processedAt,
          ':r': finished.reason,
          ':e': finished.expiresAt,
          ':pending': 'pending',
          ...(delivery.retriedAt === undefined ? {} : { ':try': delivery.retriedAt }),
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    await syncDeliveryListing(db, delivery.pk);
    return false;
  }
  if (delivery.bodyParts) await stampBodyParts(db, delivery.pk, delivery.bodySha256, delivery.bodyParts, finished.expiresAt);
  return true;
};

/**
 * Finishes the deliveries of a batch together (BatchWriteItem): first every listing row, then each
 * record as it was read, with its final status, off the queue and without the indexes' keys of old.
 * In that order, a crash between the two leaves records pending on the queue (listed a moment early
 * with their next status), never a finished record without its listing row. Unconditional, unlike
 * {@link finishDelivery}: the batch read each record pending just before, and a pending delivery can
 * only be finished by a processor, with the same outcome, so a race changes nothing.
 */
export const finishDeliveries = async (db: Db, finished: readonly { delivery: LoadedDelivery; outcome: FinalOutcome }[]): Promise<void> => {
  const rows = finished.map(({ delivery, outcome }) => {
    const { qpk: _q, qsk: _s, gsi1pk: _1p, gsi1sk: _1s, gsi2pk: _2p, gsi2sk: _2s, gsi3pk: _3p, gsi3sk: _3s, ...row } = delivery.row;
    const fields = finishedFields(db, outcome);
    return { listing: deliveryListingRow({ ...delivery, ...fields }), record: { ...row, ...fields } };
  });
  await batchWrite(db, rows.map((r) => ({ PutRequest: { Item: r.listing } })), { inAnyOrder: true });
  await batchWrite(db, rows.map((r) => ({ PutRequest: { Item: r.record } })), { inAnyOrder: true });
};

/** Counts a failed attempt that will be retried (e.g. the store throttled). */
export const countAttempt = async (db: Db, pk: string, reason: string): Promise<number> => {
  const { Attributes } = await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: { pk, sk: 'DLV' },
      UpdateExpression: 'ADD attempts :one SET reason = :r',
      ExpressionAttributeValues: { ':one': 1, ':r': reason },
      ConditionExpression: 'attribute_exists(pk)',
      ReturnValues: 'ALL_NEW',
    }),
  );
  return Number(Attributes?.attempts ?? 0);
};
