import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { WorkItem } from '../core/work-item.ts';
import { batchGet } from './batch.ts';
import type { Db } from './db.ts';
import { type IncomingLink, isoKey, parseItemPartition } from './items.ts';
import { keys } from './keys.ts';
import { readPartition } from './partition.ts';
import { recordBlockedContribution } from './aggregates.ts';
import { leaveQueue } from './queue.ts';

/**
 * The derived dependency state of an item (`DEPS` row in its partition): the blockers that were
 * open when it was last evaluated (so `unblocked` fires on the transition, once), the cycle alerts
 * it takes part in, the alerts it has open, and the `blocked` flag — listed on a sparse index while
 * true, so `GET /v1/items?blocked=true` is one query. Everything here can be recomputed from the
 * items; the sweep does.
 *
 * A missing row is the empty state (not blocked, no blockers, no alerts): most work never needs
 * one, and processing writes none until it does. The alert sweep finds open items through the
 * status index (store/open-items.ts), rows or not. Rows written before carry a `watch` entry on
 * `gsi3`, which the sweep read; nothing reads it now, and a row's next write drops it.
 */
export interface DependencyState {
  blocked: boolean;
  openBlockers: string[];
  /** cycle alerts this item is a member of: resolved by whichever member sees the cycle gone */
  cycleAlerts: { id: string; subjectId: string }[];
  /**
   * the open alerts in the item's partition that it is the subject of (cycle alerts aside), as its
   * last evaluation left them: what a batch reads by key instead of querying the partition; absent
   * on states written before it was kept
   */
  openAlerts?: string[];
  rev: number;
  /** when the blocked flag last turned true (kept while it stays true): the digest's "newly blocked" */
  blockedSince?: string;
  /** the summary's blocked counter may not reflect this state yet (see {@link saveDependencyState}) */
  countPending?: boolean;
}

/** The state of an item without a row. */
export const EMPTY_DEPENDENCY_STATE: DependencyState = { blocked: false, openBlockers: [], cycleAlerts: [], openAlerts: [], rev: 0 };

export const toDependencyState = (row: Record<string, unknown> | undefined): DependencyState =>
  row
    ? {
        blocked: row.blocked === true,
        openBlockers: (row.openBlockers as string[] | undefined) ?? [],
        cycleAlerts: (row.cycleAlerts as DependencyState['cycleAlerts'] | undefined) ?? [],
        ...(Array.isArray(row.openAlerts) ? { openAlerts: row.openAlerts as string[] } : {}),
        rev: Number(row.rev ?? 0),
        ...(row.blockedSince ? { blockedSince: String(row.blockedSince) } : {}),
        ...(row.qpk === keys.queue.aggregates ? { countPending: true } : {}),
      }
    : EMPTY_DEPENDENCY_STATE;

/** Everything evaluation needs from an item's partition, in one strongly consistent query. */
export interface ItemPartition {
  item: WorkItem | undefined;
  incoming: IncomingLink[];
  state: DependencyState;
  alertRows: Record<string, unknown>[];
}

export const loadItemPartition = async (db: Db, tenantId: string, itemId: string): Promise<ItemPartition> => {
  const rows = await readPartition(db, keys.item(tenantId, itemId).pk);
  return {
    ...parseItemPartition(rows),
    state: toDependencyState(rows.find((r) => r.sk === 'DEPS')),
    alertRows: rows.filter((r) => String(r.sk).startsWith('ALERT#')),
  };
};

/**
 * Writes an item's dependency state if nobody wrote it since `previous` was read. Returns false on
 * a lost race (the caller re-evaluates).
 *
 * When the blocked flag changes, the summary's `blocked.flag` counter follows: the state joins the
 * `aggregates` queue in the same write, then the counter row swaps (store/aggregates.ts
 * `recordBlockedContribution`), then the state leaves the queue. A crash in between leaves the state
 * queued, and the views sweep (pipeline/views-sweep.ts) finishes the swap; a later write keeps it
 * queued until one finishes. `at` is when the flag was seen turning true (the evaluation's clock).
 */
export const saveDependencyState = async (
  db: Db,
  tenantId: string,
  item: WorkItem,
  previous: DependencyState,
  next: Omit<DependencyState, 'rev'>,
  at: Date,
): Promise<boolean> => {
  const row = dependencyStateRow(tenantId, item, previous, next, at);
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: row,
        ConditionExpression: previous.rev === 0 ? 'attribute_not_exists(pk)' : 'rev = :rev',
        ...(previous.rev === 0 ? {} : { ExpressionAttributeValues: { ':rev': previous.rev } }),
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
  if (row.qpk) await countBlockedFlag(db, tenantId, item.id, previous.rev + 1, next.blocked, at);
  return true;
};

/** The dependency state row that follows `previous`; on the `aggregates` queue while the blocked counter has to follow it. */
export const dependencyStateRow = (tenantId: string, item: WorkItem, previous: DependencyState, next: Omit<DependencyState, 'rev'>, at: Date) => {
  const countPending = previous.countPending === true || previous.blocked !== next.blocked;
  const blockedSince = next.blocked ? (previous.blocked && previous.blockedSince ? previous.blockedSince : at.toISOString()) : undefined;
  const key = keys.dependencyState(tenantId, item.id);
  return {
    ...key,
    tenantId,
    itemId: item.id,
    blocked: next.blocked,
    openBlockers: next.openBlockers,
    cycleAlerts: next.cycleAlerts,
    ...(next.openAlerts ? { openAlerts: next.openAlerts } : {}),
    rev: previous.rev + 1,
    ...(next.blocked ? { gsi1pk: keys.itemsBlocked(tenantId), gsi1sk: keys.byUpdated(isoKey(item.updatedAt), item.id) } : {}),
    ...(blockedSince ? { blockedSince } : {}),
    ...(countPending ? { qpk: keys.queue.aggregates, qsk: `${at.toISOString()}#${key.pk}` } : {}),
  };
};

/** Moves the blocked counter to state `rev`, then takes the state off the queue (unless rewritten since). */
export const countBlockedFlag = async (db: Db, tenantId: string, itemId: string, rev: number, blocked: boolean, now: Date): Promise<void> => {
  await recordBlockedContribution(db, tenantId, itemId, rev, blocked, now);
  await leaveQueue(db, keys.dependencyState(tenantId, itemId), 'rev', rev);
};

/** Finishes the blocked counter update of a state still queued (the sweep's repair); false when none was pending. */
export const finishBlockedCount = async (db: Db, tenantId: string, itemId: string, now: Date): Promise<boolean> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.dependencyState(tenantId, itemId), ConsistentRead: true }));
  if (!Item || Item.qpk !== keys.queue.aggregates) return false;
  await countBlockedFlag(db, tenantId, itemId, Number(Item.rev), Item.blocked === true, now);
  return true;
};

/** Dependency states of many items (BatchGet, strongly consistent); items without a row are absent (the empty state). */
export const getDependencyStates = async (db: Db, tenantId: string, ids: readonly string[]): Promise<Map<string, DependencyState>> => {
  const rows = await batchGet(db, ids.map((id) => keys.dependencyState(tenantId, id)), { consistent: true });
  return new Map(rows.map((row) => [String(row.itemId), toDependencyState(row)]));
};

/** The settings record of a tenant, as stored (validated by the caller). */
export const getSettingsRecord = async (db: Db, tenantId: string): Promise<unknown> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.settings(tenantId), ConsistentRead: true }));
  return Item?.settings;
};

export const putSettingsRecord = async (db: Db, tenantId: string, settings: unknown, at: string): Promise<void> => {
  await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...keys.settings(tenantId), tenantId, settings, updatedAt: at } }));
};
