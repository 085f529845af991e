import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_RETENTION, ORPHAN_PART_DAYS, deliveryExpiry, expiryAfter } from '../core/retention.ts';
import type { Source } from '../core/work-item.ts';
import { batchWrite, splitIntoParts } from './batch.ts';
import type { Db } from './db.ts';
import { type DeliveryStatus, type IndexedDelivery, deliveryIndexAttributes, moveIndexTo } from './delivery-index.ts';
import { keys } from './keys.ts';

/**
 * The inbox: every verified delivery, stored raw (gzip) before it is acknowledged, so it can be
 * processed after a crash and replayed when mapping rules change.
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
}

/**
 * DynamoDB caps an item at 400 KB (dynalite enforces it too). Compressed bodies up to this size
 * stay inline; larger ones are split into parts written before the delivery record.
 */
const INLINE_BODY_BYTES = 300_000;

export interface NewDelivery extends Omit<DeliveryRecord, 'pk' | 'status' | 'attempts' | 'reason' | 'processedAt' | 'expiresAt' | 'bodyParts'> {
  body: Uint8Array;
}

const writeParts = (db: Db, pk: string, bodySha: string, parts: Buffer[], expiresAt: number): Promise<void> =>
  // 300 KB parts in batches of 25 stay under BatchWriteItem's 16 MB request limit.
  batchWrite(db, parts.map((part, n) => ({ PutRequest: { Item: { ...keys.deliveryPart(pk, bodySha, n), part, expiresAt } } })));

/**
 * Records a delivery durably, once: a conditional put keyed by (tenant, source, delivery id).
 * Returns `duplicate` when that key is already recorded.
 */
export const recordDelivery = async (db: Db, delivery: NewDelivery): Promise<{ pk: string; status: 'accepted' | 'duplicate' }> => {
  const { pk, sk } = keys.delivery(delivery.tenantId, delivery.source, delivery.deliveryId);
  const { body, ...meta } = delivery;
  const compressed = gzipSync(body);
  let bodyAttributes: Record<string, unknown> = { body: compressed };
  if (compressed.length > INLINE_BODY_BYTES) {
    const parts = splitIntoParts(compressed, INLINE_BODY_BYTES);
    await writeParts(db, pk, delivery.bodySha256, parts, expiryAfter(delivery.receivedAt, ORPHAN_PART_DAYS));
    bodyAttributes = { bodyParts: parts.length };
  }
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: {
          pk,
          sk,
          ...meta,
          ...bodyAttributes,
          status: 'pending',
          attempts: 0,
          // A pending delivery never expires (core/retention.ts); listed by status in the same put.
          ...deliveryIndexAttributes({ ...meta, pk }, 'pending'),
          qpk: keys.queue.inbox,
          qsk: `${delivery.receivedAt}#${pk}`,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { pk, status: 'accepted' };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { pk, status: 'duplicate' };
    throw error;
  }
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
] as const;

const toRecord = (item: Record<string, unknown>): DeliveryRecord =>
  Object.fromEntries(META_ATTRIBUTES.filter((k) => item[k] !== undefined).map((k) => [k, item[k]])) as unknown as DeliveryRecord;

export const getDelivery = async (db: Db, pk: string): Promise<(DeliveryRecord & { body: Uint8Array }) | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: { pk, sk: 'DLV' }, ConsistentRead: true }));
  if (!Item) return undefined;
  const record = toRecord(Item);
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
  return { ...record, body: gunzipSync(compressed) };
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

/**
 * Leaves the queue with a final status, in the same update moving its index rows to that status and
 * setting when it expires. Given a key only, the record is read first for its index fields.
 */
export const finishDelivery = async (
  db: Db,
  delivery: string | (IndexedDelivery & Pick<DeliveryRecord, 'bodySha256' | 'bodyParts'>),
  outcome: { status: Exclude<DeliveryStatus, 'pending'>; reason?: string; at: string },
): Promise<void> => {
  const indexed = typeof delivery === 'string' ? await getDelivery(db, delivery) : delivery;
  if (!indexed) throw new Error(`Delivery ${String(delivery)} does not exist`);
  const move = moveIndexTo(indexed, outcome.status);
  const expiresAt = deliveryExpiry(db.retention ?? DEFAULT_RETENTION, outcome.status, outcome.at);
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: { pk: indexed.pk, sk: 'DLV' },
      UpdateExpression: `SET #s = :s, processedAt = :at, reason = :r, expiresAt = :e, ${move.clause} REMOVE qpk, qsk`,
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': outcome.status, ':at': outcome.at, ':r': outcome.reason ?? null, ':e': expiresAt, ...move.values },
      ConditionExpression: 'attribute_exists(pk)',
    }),
  );
  if (indexed.bodyParts) await stampBodyParts(db, indexed.pk, indexed.bodySha256, indexed.bodyParts, expiresAt);
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
