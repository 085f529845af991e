import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ORPHAN_PART_DAYS, expiryAfter } from '../core/retention.ts';
import type { Db } from './db.ts';
import { type DeliveryStatus, deliveryPartitions, moveIndexTo } from './delivery-index.ts';
import type { DeliveryRecord } from './inbox.ts';
import { stampBodyParts } from './inbox.ts';
import { keys } from './keys.ts';

/**
 * Deliveries as operators see them: listed by status, connection and source through the delivery
 * index (store/delivery-index.ts), and put back on the inbox queue to be processed again.
 */

export interface DeliveryFilter {
  tenantId: string;
  /** one status, or several (a cursor spans them: every partition shares one sort key order) */
  statuses: readonly DeliveryStatus[];
  connectionId?: string;
  source?: string;
  /** received at or after this time (ISO, from `toISOString()`) */
  since?: string;
  /** received before this time */
  until?: string;
}

/** The record without its body: index reads never fetch bodies (the index projects every attribute). */
const PROJECTION = [
  'pk',
  'tenantId',
  'connectionId',
  '#source',
  'deliveryId',
  '#event',
  'bodySha256',
  'bodyBytes',
  'bodyParts',
  'receivedAt',
  '#status',
  'attempts',
  '#reason',
  'processedAt',
  'expiresAt',
  'gsi1sk',
];
const PROJECTION_NAMES = { '#source': 'source', '#event': 'event', '#status': 'status', '#reason': 'reason' };

export type DeliveryRow = DeliveryRecord & { sortKey: string };

const toRow = (item: Record<string, unknown>): DeliveryRow => {
  const { gsi1sk, ...rest } = item;
  const row = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null && v !== undefined));
  return { ...(row as unknown as DeliveryRecord), sortKey: String(gsi1sk) };
};

/** The index and partition that answer a filter: by connection, else by source, else by status alone. */
const partitionOf = (filter: DeliveryFilter, status: DeliveryStatus) => {
  const partitions = deliveryPartitions(
    { pk: '', receivedAt: '', tenantId: filter.tenantId, connectionId: filter.connectionId ?? '', source: filter.source ?? '' },
    status,
  );
  if (filter.connectionId) return { index: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk', value: partitions.gsi2pk };
  if (filter.source) return { index: 'gsi3', pk: 'gsi3pk', sk: 'gsi3sk', value: partitions.gsi3pk };
  return { index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk', value: partitions.gsi1pk };
};

/** Sort keys start with an ISO time: `0` sorts before and `~` after every one of them. */
const LOWEST = '0';
const HIGHEST = '~';

/**
 * Up to `limit` deliveries matching `filter`, in sort key order (`newest` first or `oldest` first),
 * strictly after the sort key `after`. Reads each status partition from the same position and merges,
 * so the result is one time-ordered sequence whatever the statuses. `more` tells whether any remain.
 * Discovery only (GSIs are eventually consistent): callers re-read or write conditionally.
 */
export const queryDeliveries = async (
  db: Db,
  filter: DeliveryFilter,
  options: { order: 'newest' | 'oldest'; limit: number; after?: string },
): Promise<{ rows: DeliveryRow[]; more: boolean }> => {
  const newest = options.order === 'newest';
  let low = filter.since ?? LOWEST;
  // `until` is exclusive: a sort key equal to it cannot exist (each has a `#…` suffix), and later ones sort above it.
  let high = filter.until ?? HIGHEST;
  if (options.after !== undefined) {
    if (newest) high = options.after < high ? options.after : high;
    else low = options.after > low ? options.after : low;
  }
  if (low > high) return { rows: [], more: false };
  const perPartition = await Promise.all(
    filter.statuses.map(async (status) => {
      const partition = partitionOf(filter, status);
      const rows: DeliveryRow[] = [];
      let startKey: Record<string, unknown> | undefined;
      let exhausted = false;
      // One more than asked, to know whether a next page exists.
      while (rows.length <= options.limit) {
        const page = await db.doc.send(
          new QueryCommand({
            TableName: db.table,
            IndexName: partition.index,
            KeyConditionExpression: `${partition.pk} = :p AND ${partition.sk} BETWEEN :low AND :high`,
            ...(filter.connectionId && filter.source ? { FilterExpression: '#source = :source' } : {}),
            ProjectionExpression: PROJECTION.join(', '),
            ExpressionAttributeNames: PROJECTION_NAMES,
            ExpressionAttributeValues: {
              ':p': partition.value,
              ':low': low,
              ':high': high,
              ...(filter.connectionId && filter.source ? { ':source': filter.source } : {}),
            },
            ScanIndexForward: !newest,
            Limit: options.limit + 1 - rows.length,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const row = toRow(item);
          if (row.sortKey !== options.after) rows.push(row);
        }
        startKey = page.LastEvaluatedKey;
        if (!startKey) {
          exhausted = true;
          break;
        }
      }
      return { rows, exhausted };
    }),
  );
  const merged = perPartition
    .flatMap((p) => p.rows)
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0) * (newest ? -1 : 1));
  const rows = merged.slice(0, options.limit);
  const more = merged.length > options.limit || perPartition.some((p) => !p.exhausted);
  return { rows, more };
};

/** Counts the deliveries matching `filter` (reads the index rows' keys only). */
export const countDeliveries = async (db: Db, filter: DeliveryFilter): Promise<number> => {
  let total = 0;
  for (const status of filter.statuses) {
    const partition = partitionOf(filter, status);
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.doc.send(
        new QueryCommand({
          TableName: db.table,
          IndexName: partition.index,
          KeyConditionExpression: `${partition.pk} = :p AND ${partition.sk} BETWEEN :low AND :high`,
          ExpressionAttributeValues: { ':p': partition.value, ':low': filter.since ?? LOWEST, ':high': filter.until ?? HIGHEST },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      total += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return total;
};

/** One delivery's record without its body, read strongly consistently. */
export const getDeliveryMeta = async (db: Db, pk: string): Promise<DeliveryRecord | undefined> => {
  const { Item } = await db.doc.send(
    new GetCommand({
      TableName: db.table,
      Key: { pk, sk: 'DLV' },
      ConsistentRead: true,
      ProjectionExpression: PROJECTION.filter((name) => name !== 'gsi1sk').join(', '),
      ExpressionAttributeNames: PROJECTION_NAMES,
    }),
  );
  if (!Item) return undefined;
  const { sortKey: _sortKey, ...record } = toRow(Item);
  return record;
};

/** Statuses a delivery can be retried from: processing it again can only do what it did not do. */
export const RETRYABLE: readonly DeliveryStatus[] = ['failed', 'ignored'];

/**
 * Puts a failed or ignored delivery back on the inbox queue as pending, with its attempts reset, in
 * one conditional update that also moves its index rows and removes its expiry (pending never
 * expires). Answers what the delivery was when the condition failed: `pending` (already queued) or
 * `processed`; `requeued` when it is queued now.
 */
export const requeueDelivery = async (
  db: Db,
  delivery: DeliveryRecord,
  at: string,
): Promise<'requeued' | 'pending' | 'processed' | 'missing'> => {
  const move = moveIndexTo(delivery, 'pending');
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: delivery.pk, sk: 'DLV' },
        UpdateExpression: `SET #s = :pending, attempts = :zero, qpk = :queue, qsk = :qsk, retriedAt = :at, ${move.clause} REMOVE reason, processedAt, expiresAt`,
        ConditionExpression: '#s IN (:failed, :ignored)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':pending': 'pending',
          ':zero': 0,
          ':queue': keys.queue.inbox,
          // Joins the queue now, so the scheduled sweep leaves it to the stream-triggered processor at first.
          ':qsk': `${at}#${delivery.pk}`,
          ':at': at,
          ':failed': 'failed',
          ':ignored': 'ignored',
          ...move.values,
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const now = await getDeliveryMeta(db, delivery.pk);
    if (!now) return 'missing';
    if (now.status === 'pending' || now.status === 'processed') return now.status;
    return requeueDelivery(db, now, at);
  }
  // Its body parts must outlive the wait in the queue, whatever their expiry was.
  if (delivery.bodyParts) await stampBodyParts(db, delivery.pk, delivery.bodySha256, delivery.bodyParts, expiryAfter(at, ORPHAN_PART_DAYS));
  return 'requeued';
};

/**
 * Records the outcome of a replay on a delivery whose status it changes (a failed delivery that now
 * processes, a processed one the current normalizer rejects), conditional on the status the replay
 * read: a delivery retried meanwhile is the processor's again.
 */
export const settleReplayedDelivery = async (
  db: Db,
  delivery: DeliveryRecord,
  outcome: { status: Exclude<DeliveryStatus, 'pending'>; reason?: string; at: string; expiresAt: number },
): Promise<void> => {
  const move = moveIndexTo(delivery, outcome.status);
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: delivery.pk, sk: 'DLV' },
        UpdateExpression: `SET #s = :s, processedAt = :at, reason = :r, expiresAt = :e, ${move.clause}`,
        ConditionExpression: '#s = :read',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':s': outcome.status,
          ':at': outcome.at,
          ':r': outcome.reason ?? null,
          ':e': outcome.expiresAt,
          ':read': delivery.status,
          ...move.values,
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return;
  }
  if (delivery.bodyParts) await stampBodyParts(db, delivery.pk, delivery.bodySha256, delivery.bodyParts, outcome.expiresAt);
};
