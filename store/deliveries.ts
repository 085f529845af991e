import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ORPHAN_PART_DAYS, expiryAfter } from '../core/retention.ts';
import type { Db } from './db.ts';
import { type DeliveryStatus, deliveryListingRow, deliveryPartitions, deliverySortKey } from './delivery-index.ts';
import type { DeliveryRecord } from './inbox.ts';
import { LEGACY_INDEX_REMOVALS, stampBodyParts, syncDeliveryListing } from './inbox.ts';
import { keys } from './keys.ts';
import { TABLE_SCHEMA } from './table.ts';

/**
 * Deliveries as operators see them: listed by status, connection and source (pending ones from the
 * inbox queue, the others from their listing rows: store/delivery-index.ts), and put back on the
 * inbox queue to be processed again.
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

/**
 * The record without its body: what the queue index projects (store/table.ts), and all a listing
 * row holds. Reserved words are named by placeholders.
 */
const PROJECTION_NAMES = { '#source': 'source', '#event': 'event', '#status': 'status', '#reason': 'reason' };
const PROJECTION = ['pk', ...TABLE_SCHEMA.indexes.queue.projection.map((name) => (`#${name}` in PROJECTION_NAMES ? `#${name}` : name))];

export type DeliveryRow = DeliveryRecord & { sortKey: string };

/** A delivery as one source listed it; `listing` when it is a listing row (rather than a record). */
type Found = { row: DeliveryRow; listing: boolean };

const toRow = (item: Record<string, unknown>): DeliveryRow => {
  const { gsi1sk: _gsi1sk, sk: _sk, qsk: _qsk, ...rest } = item;
  const row = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null && v !== undefined)) as unknown as DeliveryRecord;
  return { ...row, sortKey: deliverySortKey(row) };
};

/**
 * The index and partition of listing rows (and records of old) that answer a filter: by connection,
 * else by source, else by status alone; and what the query must still check of each row. Processed
 * deliveries have no partitions by connection or source (store/delivery-index.ts): their status
 * partition, checked.
 */
const partitionOf = (filter: DeliveryFilter, status: DeliveryStatus) => {
  const partitions = deliveryPartitions(
    { pk: '', receivedAt: '', tenantId: filter.tenantId, connectionId: filter.connectionId ?? '', source: filter.source ?? '' },
    status,
  );
  const { connectionId, source } = filter;
  if (connectionId && partitions.gsi2pk) return { index: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk', value: partitions.gsi2pk, check: { source } };
  if (source && partitions.gsi3pk) return { index: 'gsi3', pk: 'gsi3pk', sk: 'gsi3sk', value: partitions.gsi3pk, check: {} };
  return { index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk', value: partitions.gsi1pk, check: { connectionId, source } };
};

/**
 * What a query must still check of the rows it reads, as a FilterExpression (absent when nothing is
 * to check) and the values it names; `#source` stands for `source`, as in PROJECTION_NAMES.
 */
const filterOf = (check: { tenantId?: string; connectionId?: string | undefined; source?: string | undefined }) => {
  const conditions = [
    ...(check.tenantId ? ['tenantId = :t'] : []),
    ...(check.connectionId ? ['connectionId = :c'] : []),
    ...(check.source ? ['#source = :source'] : []),
  ];
  return {
    expression: conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {},
    names: (check.source ? { '#source': 'source' } : {}) as Record<string, string>,
    values: {
      ...(check.tenantId ? { ':t': check.tenantId } : {}),
      ...(check.connectionId ? { ':c': check.connectionId } : {}),
      ...(check.source ? { ':source': check.source } : {}),
    } as Record<string, string>,
    /** rows a page reads at least: when rows are checked, most of them may not match */
    minimumPage: conditions.length > 0 ? FILTERED_PAGE : 0,
  };
};

/** Sort keys start with an ISO time: `0` sorts before and `~` after every one of them. */
const LOWEST = '0';
const HIGHEST = '~';

/**
 * The queue's sort key is `{receivedAt}#{pk}` and a record's pk is `T#{t}#DLV#{source}#{deliveryId}`,
 * so within one tenant, `{receivedAt}#{source}#{deliveryId}` maps to the queue's order and back.
 */
const queuePrefix = (tenantId: string) => `T#${tenantId}#DLV#`;

/** A position in the listing's order as the same position among the tenant's rows on the queue. */
const toQueuePosition = (tenantId: string, position: string): string => {
  const hash = position.indexOf('#');
  return hash < 0 ? position : `${position.slice(0, hash)}#${queuePrefix(tenantId)}${position.slice(hash + 1)}`;
};

/**
 * A queue position (the last row a page evaluated, maybe another tenant's) as a position in the
 * listing's order: exact for the tenant's rows; for another tenant's, just before (`{time}#`) or
 * after (`{time}#~`) every row of the tenant received at that time, as the queue orders them.
 */
const fromQueuePosition = (tenantId: string, qsk: string): string => {
  const hash = qsk.indexOf('#');
  const time = qsk.slice(0, hash);
  const pk = qsk.slice(hash + 1);
  const prefix = queuePrefix(tenantId);
  if (pk.startsWith(prefix)) return `${time}#${pk.slice(prefix.length)}`;
  return pk < prefix ? `${time}#` : `${time}#${HIGHEST}`;
};

/**
 * Query pages read per source and call. A filter the partition does not answer (a source on the
 * partition of a connection that no longer exists; the tenant on the queue, shared by every tenant)
 * can make pages come back short; this bound keeps such a request from reading the whole partition
 * to return little or nothing.
 */
const MAX_PAGES = 5;
/** Rows a query that checks its rows reads per page at least (the queue, shared by every tenant; a processed partition read for one connection). */
const FILTERED_PAGE = 200;

interface Window {
  low: string;
  high: string;
  newest: boolean;
  limit: number;
  after: string | undefined;
  maxPages: number;
}

/**
 * Reads one source from the window's start until it has one row more than asked (to know whether
 * more remain), the page bound, or its end. `through` is where it stopped (the sort key of the last
 * row it evaluated: everything up to it was seen), undefined at its end.
 */
const readSource = async (
  window: Window,
  page: (startKey: Record<string, unknown> | undefined, want: number) => Promise<{ found: Found[]; lastKey: Record<string, unknown> | undefined }>,
  positionOf: (lastKey: Record<string, unknown>) => string,
): Promise<{ found: Found[]; through: string | undefined }> => {
  const found: Found[] = [];
  let startKey: Record<string, unknown> | undefined;
  let through: string | undefined;
  for (let pages = 0; found.length <= window.limit && pages < window.maxPages; pages++) {
    const result = await page(startKey, window.limit + 1 - found.length);
    for (const f of result.found) if (f.row.sortKey !== window.after) found.push(f);
    startKey = result.lastKey;
    if (!startKey) return { found, through: undefined };
    through = positionOf(startKey);
  }
  return { found, through };
};

/** Listing rows (and records of old, still carrying their index keys) in one status partition. */
const readStatusPartition = (db: Db, filter: DeliveryFilter, status: DeliveryStatus, window: Window) => {
  const partition = partitionOf(filter, status);
  const { expression, values, minimumPage } = filterOf(partition.check);
  return readSource(
    window,
    async (startKey, want) => {
      const result = await db.doc.send(
        new QueryCommand({
          TableName: db.table,
          IndexName: partition.index,
          KeyConditionExpression: `${partition.pk} = :p AND ${partition.sk} BETWEEN :low AND :high`,
          ...expression,
          ProjectionExpression: [...PROJECTION, 'sk'].join(', '),
          ExpressionAttributeNames: PROJECTION_NAMES,
          ExpressionAttributeValues: { ':p': partition.value, ':low': window.low, ':high': window.high, ...values },
          ScanIndexForward: !window.newest,
          Limit: Math.max(want, minimumPage),
          ExclusiveStartKey: startKey,
        }),
      );
      return { found: (result.Items ?? []).map((item) => ({ row: toRow(item), listing: item.sk === 'LIST' })), lastKey: result.LastEvaluatedKey };
    },
    (lastKey) => String(lastKey[partition.sk]),
  );
};

/**
 * Pending deliveries of the tenant on the inbox queue, except re-queued ones (listed by their listing
 * row: their queue position is when they were re-queued, not the order of the listing).
 */
const readQueue = (db: Db, filter: DeliveryFilter, window: Window) => {
  const { expression, values, minimumPage } = filterOf({ tenantId: filter.tenantId, connectionId: filter.connectionId, source: filter.source });
  return readSource(
    window,
    async (startKey, want) => {
      const result = await db.doc.send(
        new QueryCommand({
          TableName: db.table,
          IndexName: 'queue',
          KeyConditionExpression: 'qpk = :q AND qsk BETWEEN :low AND :high',
          ...expression,
          ProjectionExpression: [...PROJECTION, 'qsk'].join(', '),
          ExpressionAttributeNames: PROJECTION_NAMES,
          ExpressionAttributeValues: {
            ':q': keys.queue.inbox,
            ':low': toQueuePosition(filter.tenantId, window.low),
            ':high': toQueuePosition(filter.tenantId, window.high),
            ...values,
          },
          ScanIndexForward: !window.newest,
          Limit: Math.max(want, minimumPage),
          ExclusiveStartKey: startKey,
        }),
      );
      const fresh = (result.Items ?? []).filter((item) => String(item.qsk).startsWith(`${String(item.receivedAt)}#`));
      return { found: fresh.map((item) => ({ row: toRow(item), listing: false })), lastKey: result.LastEvaluatedKey };
    },
    (lastKey) => fromQueuePosition(filter.tenantId, String(lastKey.qsk)),
  );
};

/**
 * Of two rows of one delivery (a crash between its listing row and its record, or a record of old
 * still carrying its index keys next to its listing row), the one listed: a final status before
 * pending (the listing row is written just before the record leaves the queue), then the listing row.
 */
const rank = (f: Found): number => (f.row.status === 'pending' ? 0 : 2) + (f.listing ? 1 : 0);

/**
 * Up to `limit` deliveries matching `filter`, in sort key order (`newest` first or `oldest` first),
 * strictly after the sort key `after`. Reads each source (the queue for pending deliveries, and a
 * status partition of listing rows per status) from the same position and merges, so the result is
 * one time-ordered sequence whatever the statuses, each delivery once. `more` tells whether any
 * remain, and `next` is the position to carry on after: the last row, or, when the page bound
 * stopped a source early, how far every source was read (so a page may be short, even empty, with a
 * `next`). Discovery only (GSIs are eventually consistent): callers re-read or write conditionally.
 */
export const queryDeliveries = async (
  db: Db,
  filter: DeliveryFilter,
  options: { order: 'newest' | 'oldest'; limit: number; after?: string; maxPages?: number },
): Promise<{ rows: DeliveryRow[]; more: boolean; next?: string }> => {
  const newest = options.order === 'newest';
  let low = filter.since ?? LOWEST;
  // `until` is exclusive: a sort key equal to it cannot exist (each has a `#…` suffix), and later ones sort above it.
  let high = filter.until ?? HIGHEST;
  if (options.after !== undefined) {
    if (newest) high = options.after < high ? options.after : high;
    else low = options.after > low ? options.after : low;
  }
  if (low > high) return { rows: [], more: false };
  const window: Window = { low, high, newest, limit: options.limit, after: options.after, maxPages: options.maxPages ?? MAX_PAGES };
  const sources = filter.statuses.flatMap((status) => [
    ...(status === 'pending' ? [readQueue(db, filter, window)] : []),
    // Pending: re-queued deliveries' listing rows, and records of old still carrying their index keys.
    readStatusPartition(db, filter, status, window),
  ]);
  const perSource = await Promise.all(sources);
  const before = (a: string, b: string) => (newest ? a > b : a < b);
  // Rows past the position the least advanced unfinished source reached may have unread rows before them.
  const frontier = perSource
    .map((p) => p.through)
    .filter((through): through is string => through !== undefined)
    .reduce<string | undefined>((least, through) => (least === undefined || before(through, least) ? through : least), undefined);
  const unique = new Map<string, Found>();
  for (const found of perSource.flatMap((p) => p.found)) {
    if (frontier !== undefined && before(frontier, found.row.sortKey)) continue;
    const seen = unique.get(found.row.sortKey);
    if (!seen || rank(found) > rank(seen)) unique.set(found.row.sortKey, found);
  }
  const merged = [...unique.values()]
    .map((f) => f.row)
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0) * (newest ? -1 : 1));
  const rows = merged.slice(0, options.limit);
  const more = merged.length > options.limit || frontier !== undefined;
  if (!more) return { rows, more };
  return { rows, more, next: rows.length === options.limit ? rows.at(-1)!.sortKey : frontier! };
};

/**
 * Counts the deliveries matching `filter`: a final status by the keys of its partition's index rows;
 * pending by reading the queue (shared by every tenant) and re-queued deliveries' listing rows.
 */
export const countDeliveries = async (db: Db, filter: DeliveryFilter): Promise<number> => {
  let total = 0;
  for (const status of filter.statuses) {
    if (status === 'pending') {
      let after: string | undefined;
      for (;;) {
        const page = await queryDeliveries(db, { ...filter, statuses: ['pending'] }, { order: 'oldest', limit: 1000, ...(after ? { after } : {}) });
        total += page.rows.length;
        if (!page.more) break;
        after = page.next;
      }
      continue;
    }
    const partition = partitionOf(filter, status);
    const { expression, names, values } = filterOf(partition.check);
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.doc.send(
        new QueryCommand({
          TableName: db.table,
          IndexName: partition.index,
          KeyConditionExpression: `${partition.pk} = :p AND ${partition.sk} BETWEEN :low AND :high`,
          ...expression,
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: { ':p': partition.value, ':low': filter.since ?? LOWEST, ':high': filter.until ?? HIGHEST, ...values },
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
      ProjectionExpression: PROJECTION.join(', '),
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
 * one conditional update that also removes its expiry (pending never expires), then lists it as
 * pending (its listing row: its queue position is when it was re-queued, not the listing's order).
 * Answers what the delivery was when the condition failed: `pending` (already queued), `processed`,
 * `expired` (its retention period is over, or its body is gone: it can never be processed again),
 * `missing`; `requeued` when it is queued now. `delivery` may be a listing row (bulk retry).
 */
export const requeueDelivery = async (db: Db, delivery: DeliveryRecord, at: string): Promise<RequeueOutcome> => {
  const now = Math.floor(Date.parse(at) / 1000);
  // Expired but not deleted yet (TTL runs late, the local sweep every few minutes): its body may already be gone.
  if (delivery.expiresAt !== undefined && delivery.expiresAt <= now) return 'expired';
  // Its body parts must outlive the wait in the queue, whatever their expiry was. Stamped before the
  // status changes, so a delivery whose parts are gone (TTL deletes them and the record independently)
  // is never queued to fail for good; a stamp followed by a lost race only keeps parts a while longer.
  if (delivery.bodyParts) {
    // Named by the record itself: a listing row keeps the hash the body had when it was listed, and an erasure may rewrite it.
    const current = await getDeliveryMeta(db, delivery.pk);
    if (!current) return 'missing';
    if (current.bodySha256 !== delivery.bodySha256) return requeueDelivery(db, current, at);
    try {
      await stampBodyParts(db, delivery.pk, delivery.bodySha256, delivery.bodyParts, expiryAfter(at, ORPHAN_PART_DAYS));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'expired';
      throw error;
    }
  }
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: delivery.pk, sk: 'DLV' },
        UpdateExpression: `SET #s = :pending, attempts = :zero, qpk = :queue, qsk = :qsk, retriedAt = :at REMOVE reason, processedAt, expiresAt, ${LEGACY_INDEX_REMOVALS}`,
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
  // After the record: a crash before this leaves a queued record that its processing lists again.
  // Unless a run of this try finished it meanwhile (its listing row names this try).
  const { reason: _reason, processedAt: _processedAt, expiresAt: _expiresAt, ...kept } = delivery;
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: deliveryListingRow({ ...kept, status: 'pending', attempts: 0, retriedAt: at }),
        ConditionExpression: 'attribute_not_exists(retriedAt) OR retriedAt <> :at',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  return 'requeued';
};

/**
 * Records the outcome of a replay on a delivery whose status it changes (a failed delivery that now
 * processes, a processed one the current normalizer rejects), conditional on the status the replay
 * read: a delivery retried meanwhile is the processor's again. Its listing row is written first (a
 * crash after it is repaired by the replay running the batch again); when the condition fails, the
 * listing row is made to agree with the record again.
 */
export const settleReplayedDelivery = async (
  db: Db,
  delivery: DeliveryRecord,
  outcome: { status: Exclude<DeliveryStatus, 'pending'>; reason?: string; at: string; expiresAt: number },
): Promise<void> => {
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: deliveryListingRow({ ...delivery, status: outcome.status, reason: outcome.reason ?? null, processedAt: outcome.at, expiresAt: outcome.expiresAt }),
    }),
  );
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: delivery.pk, sk: 'DLV' },
        UpdateExpression: `SET #s = :s, processedAt = :at, reason = :r, expiresAt = :e REMOVE ${LEGACY_INDEX_REMOVALS}`,
        ConditionExpression: '#s = :read',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':s': outcome.status,
          ':at': outcome.at,
          ':r': outcome.reason ?? null,
          ':e': outcome.expiresAt,
          ':read': delivery.status,
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    await syncDeliveryListing(db, delivery.pk);
    return;
  }
  if (delivery.bodyParts) await stampBodyParts(db, delivery.pk, delivery.bodySha256, delivery.bodyParts, outcome.expiresAt);
};
