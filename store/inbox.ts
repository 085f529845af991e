import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Source } from '../core/work-item.ts';
import { batchWrite, splitIntoParts } from './batch.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * The inbox: every verified delivery, stored raw (gzip) before it is acknowledged, so it can be
 * processed after a crash and replayed when mapping rules change.
 */

export type DeliveryStatus = 'pending' | 'processed' | 'ignored' | 'failed';

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
}

/**
 * DynamoDB caps an item at 400 KB (dynalite enforces it too). Compressed bodies up to this size
 * stay inline; larger ones are split into parts written before the delivery record.
 */
const INLINE_BODY_BYTES = 300_000;
const RETENTION_DAYS = 30;

export interface NewDelivery extends Omit<DeliveryRecord, 'pk' | 'status' | 'attempts' | 'reason' | 'processedAt'> {
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
  const expiresAt = Math.floor(Date.parse(delivery.receivedAt) / 1000) + RETENTION_DAYS * 86_400;
  let bodyAttributes: Record<string, unknown> = { body: compressed };
  if (compressed.length > INLINE_BODY_BYTES) {
    const parts = splitIntoParts(compressed, INLINE_BODY_BYTES);
    await writeParts(db, pk, delivery.bodySha256, parts, expiresAt);
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
          expiresAt,
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

/** Leaves the queue with a final status. */
export const finishDelivery = async (
  db: Db,
  pk: string,
  outcome: { status: Exclude<DeliveryStatus, 'pending'>; reason?: string; at: string },
): Promise<void> => {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: { pk, sk: 'DLV' },
      UpdateExpression: 'SET #s = :s, processedAt = :at, reason = :r REMOVE qpk, qsk',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': outcome.status, ':at': outcome.at, ':r': outcome.reason ?? null },
      ConditionExpression: 'attribute_exists(pk)',
    }),
  );
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
