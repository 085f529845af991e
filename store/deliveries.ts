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
 * Query pages read per status partition and call. Only a filter the partition does not answer (a
 * source on the partition of a connection that no longer exists) can make pages come back short;
 * this bound keeps such a request from reading the whole partition to return little or nothing.
 */
const MAX_PAGES = 5;

/**
 * Up to `limit` deliveries matching `filter`, in sort key order (`newest` first or `oldest` first),
 * strictly after the sort key `after`. Reads each status partition from the same position and merges,
 * so the result is one time-ordered sequence whatever the statuses. `more` tells whether any remain,
 * and `next` is the position to carry on after: the last row, or, when the page bound stopped a
 * partition early, how far every partition was read (so a page may be short, even empty, with a `next`).
 * Discovery only (GSIs are eventually consistent): callers re-read or write conditionally.
 */
export const queryDeliveries = async (
  db: Db,
  filter: DeliveryFilter,
  options: { order: 'newest' | 'oldest'; limit: number; after?: string; maxPages?: number },
): Promise<{ rows: DeliveryRow[]; more: boolean; next?: string }> => {
  const newest = options.order === 'newest';
  const maxPages = options.maxPages ?? MAX_PAGES;
  let low = filter.since ?? LOWEST;
  // `until` is exclusive: a sort key equal to it cannot exist (each has a `#…` suffix), and later ones sort above it.
  let high = filter.until ?? HIGHEST;
  if (options.after !== undefined) {
    if (newest) high = options.after < high ? options.after : high;
    else low = options.after > low ? options.after : low;
  }
  if (low > high) return { rows: [], more: false };
  const sourceFilter = filter.connectionId && filter.source;
  const perPartition = await Promise.all(
    filter.statuses.map(async (status) => {
      const partition = partitionOf(filter, status);
      const rows: DeliveryRow[] = [];
      let startKey: Record<string, unknown> | undefined;
      /** the sort key of the last row the partition evaluated: everything up to it was seen */
      let through: string | undefined;
      // One more than asked, to know whether a next page exists.
      for (let pages = 0; rows.length <= options.limit && pages < maxPages; pages++) {
        const page = await db.doc.send(
          new QueryCommand({
            TableName: db.table,
            IndexName: partition.index,
            KeyConditionExpression: `${partition.pk} = :p AND ${partition.sk} BETWEEN :low AND :high`,
            ...(sourceFilter ? { FilterExpression: '#source = :source' } : {}),
            ProjectionExpression: PROJECTION.join(', '),
            ExpressionAttributeNames: PROJECTION_NAMES,
            ExpressionAttributeValues: {
              ':p': partition.value,
              ':low': low,
              ':high': high,
              ...(sourceFilter ? { ':source': filter.source } : {}),
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
        if (!startKey) return { rows, through: undefined };
        through = String(startKey[partition.sk]);
      }
      return { rows, through };
    }),
  );
  const before = (a: string, b: string) => (newest ? a > b : a < b);
  // Rows past the position the least advanced unfinished partition reached may have unread rows before them.
  const frontier = perPartition
    .map((p) => p.through)
    .filter((through): through is string => through !== undefined)
    .reduce<string | undefined>((least, through) => (least === undefined || before(through, least) ? through : least), undefined);
  const merged = perPartition
    .flatMap((p) => p.rows)
    .filter((row) => frontier === undefined || !before(frontier, row.sortKey))
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0) * (newest ? -1 : 1));
  const rows = merged.slice(0, options.limit);
  const more = merged.length > options.limit || frontier !== undefined;
  if (!more) return { rows, more };
  return { rows, more, next: rows.length === options.limit ? rows.at(-1)!.sortKey : frontier! };
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

/** What re-queueing a delivery did, or what the delivery turned out to be. */
export type RequeueOutcome = 'requeued' | 'pending' | 'processed' | 'expired' | 'missing';

/**
 * Puts a failed or ignored delivery back on the inbox queue as pending, with its attempts reset, in
 * one conditional update that also moves its index rows and removes its expiry (pending never
 * expires). Answers what the delivery was when the condition failed: `pending` (already queued),
 * `processed`, `expired` (its retention period is over, or its body is gone: it can never be
 * processed again), `missing`; `requeued` when it is queued now.
 */
export const requeueDelivery = async (db: Db, delivery: DeliveryRecord, at: string): Promise<RequeueOutcome> => {
  const now = Math.floor(Date.parse(at) / 1000);
  // Expired but not deleted yet (TTL runs late, the local sweep every few minutes): its body may already be gone.
  if (delivery.expiresAt !== undefined && delivery.expiresAt <= now) return 'expired';
  // Its body parts must outlive the wait in the queue, whatever their expiry was. Stamped before the
  // status changes, so a delivery whose parts are gone (TTL deletes them and the record independently)
  // is never queued to fail for good; a stamp followed by a lost race only keeps parts a while longer.
  if (delivery.bodyParts) {
    try {
      await stampBodyParts(db, delivery.pk, delivery.bodySha256, delivery.bodyParts, expiryAfter(at, ORPHAN_PART_DAYS));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'expired';
      throw error;
    }
  }
  const move = moveIndexTo(delivery, 'pending');
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: delivery.pk, sk: 'DLV' },
        UpdateExpression: `SET #s = :pending, attempts = :zero, qpk = :queue, qsk = :qsk, retriedAt = :at, ${move.clause} REMOVE reason, processedAt, expiresAt`,
        // The body it names is the one stamped above (an erasure may rewrite it), and it has not expired meanwhile.
        ConditionExpression: '#s IN (:failed, :ignored) AND bodySha256 = :sha AND (attribute_not_exists(expiresAt) OR expiresAt > :now)',
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
          ':sha': delivery.bodySha256,
          ':now': now,
          ...move.values,
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const current = await getDeliveryMeta(db, delivery.pk);
    if (!current) return 'missing';
    if (current.status === 'pending' || current.status === 'processed') return current.status;
    if (current.expiresAt !== undefined && current.expiresAt <= now) return 'expired';
    return requeueDelivery(db, current, at);
  }
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
