import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { batchWrite } from './batch.ts';
import type { Db } from './db.ts';
import { inboundMarkerRow } from './items.ts';
import { keys } from './keys.ts';
import { PENDING_SCANS, claimCurrentVersion, markUpgraded } from './schema-state.ts';
import { SCHEMA_VERSION, UPGRADABLE_SCHEMA_VERSIONS } from './table.ts';

/*
 * Schema versions 2–4 → 5 in place. The version itself is set at start, before anything is
 * written (store/schema-state.ts `claimCurrentVersion`), with what the scan below has left to do:
 *
 * - from 2, the inbound markers (`markersPending`). Version 3 keeps an inbound marker in every item
 *   partition where rows of other items may wait (reverse edges `IN#`, changes kept for an item not
 *   indexed yet `PENDING#`): batched processing reads one marker per item instead of querying each
 *   partition. Until the scan has written them, processing treats every item as one that others
 *   link to (the slower one-by-one path, correct either way).
 * - from 2–4, the owner and label entries (`facetsPending`). Version 5 keeps them in the partition
 *   of their value (`T#{t}#owner#{value}` / `{updatedAt}#{id}`) instead of the item's partition
 *   (`FACET#…`, listed on gsi1): the scan writes each at its new key, from the gsi1 keys it had, then
 *   deletes it. Until the scan is done, lists by owner or label read the other indexes and filter
 *   (store/item-queries.ts); an entry moved after its item changed is older than the item, and
 *   readers skip it.
 *
 * Items compressed by version 4 (store/item-codec.ts) need nothing: records written before are read
 * as they are. The scan's position is kept in the schema row, so an upgrade stopped by a deadline or
 * a crash continues where it was, and running it twice, or two at once, writes the same rows again
 * and nothing else.
 */

export interface UpgradeProgress {
  /** rows read by this run */
  scanned: number;
  /** partitions given their marker by this run */
  markers: number;
  /** owner and label entries moved to their value's partition by this run */
  entries: number;
  /** true once the table is at the current schema version */
  done: boolean;
}

const isWaitingRow = (sk: string): boolean => sk.startsWith('IN#') || sk.startsWith('PENDING#');

/** `T#{tenant}#ITEM#{id}` → the tenant and item, for the partition's marker. */
const itemPartition = (pk: string): { tenantId: string; itemId: string } | undefined => {
  const match = /^T#(.+?)#ITEM#(.+)$/.exec(pk);
  return match ? { tenantId: match[1]!, itemId: match[2]! } : undefined;
};

/** A version 4 owner or label entry at its version 5 key, from the gsi1 keys it was listed under. */
const movedEntry = (row: Record<string, unknown>): Record<string, unknown> => {
  const { pk: _pk, sk: _sk, gsi1pk, gsi1sk, ...attributes } = row;
  return { ...attributes, pk: gsi1pk, sk: gsi1sk };
};

const PENDING = Object.keys(PENDING_SCANS);
/** The schema row still has a scan to finish. */
const SCAN_PENDING = PENDING.map((name) => `${name} = :pending`).join(' OR ');

/**
 * Upgrades a version 2–4 table to the current version, its scan page by page from where the last
 * run stopped, until done or past `deadline` (epoch ms). Resolves at once on a current table.
 */
export const upgradeSchema = async (
  db: Db,
  options: { deadline?: number; pageSize?: number; onProgress?: (progress: UpgradeProgress) => void } = {},
): Promise<UpgradeProgress> => {
  const progress: UpgradeProgress = { scanned: 0, markers: 0, entries: 0, done: false };
  const read = async () => (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.schema(), ConsistentRead: true }))).Item;
  let schema = await read();
  if (schema && Number(schema.version) < SCHEMA_VERSION) {
    if (!UPGRADABLE_SCHEMA_VERSIONS.includes(Number(schema.version))) throw new Error(`Schema version ${schema.version} cannot be upgraded in place`);
    // Set at start by this code; here for a table an older process was upgrading.
    await claimCurrentVersion(db, Number(schema.version));
    schema = await read();
  }
  const markers = schema?.markersPending === true;
  const entries = schema?.facetsPending === true;
  if (!markers && !entries) {
    markUpgraded(db);
    return { ...progress, done: true };
  }
  let startKey = schema!.upgradeCursor as Record<string, unknown> | undefined;
  do {
    if (options.deadline !== undefined && Date.now() > options.deadline) return progress;
    const page = await db.doc.send(
      new ScanCommand({
        TableName: db.table,
        // Moving an entry copies all of it.
        ...(entries ? {} : { ProjectionExpression: 'pk, sk' }),
        Limit: options.pageSize ?? 1000,
        ExclusiveStartKey: startKey,
      }),
    );
    progress.scanned += page.Items?.length ?? 0;
    const partitions = new Map<string, { tenantId: string; itemId: string }>();
    const moving: Record<string, unknown>[] = [];
    for (const row of page.Items ?? []) {
      const sk = String(row.sk);
      const partition = markers && isWaitingRow(sk) ? itemPartition(String(row.pk)) : undefined;
      if (partition) partitions.set(String(row.pk), partition);
      if (entries && sk.startsWith(keys.legacyFacetPrefix) && row.gsi1pk !== undefined && itemPartition(String(row.pk))) moving.push(row);
    }
    // In order: every entry at its new key before any old one is deleted; a crash in between moves the page again.
    await batchWrite(db, [
      ...[...partitions.values()].map(({ tenantId, itemId }) => ({ PutRequest: { Item: inboundMarkerRow(tenantId, itemId) } })),
      ...moving.map((row) => ({ PutRequest: { Item: movedEntry(row) } })),
      ...moving.map((row) => ({ DeleteRequest: { Key: { pk: row.pk, sk: row.sk } } })),
    ]);
    progress.markers += partitions.size;
    progress.entries += moving.length;
    startKey = page.LastEvaluatedKey;
    // The page's writes first, then the position: a crash in between scans the page again.
    await saveCursor(db, startKey);
    options.onProgress?.(progress);
  } while (startKey);

  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.schema(),
        UpdateExpression: `REMOVE ${PENDING.join(', ')}, upgradeCursor`,
        ConditionExpression: SCAN_PENDING,
        ExpressionAttributeValues: { ':pending': true },
      }),
    );
  } catch (error) {
    // Another run finished first.
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  markUpgraded(db);
  return { ...progress, done: true };
};

const saveCursor = async (db: Db, cursor: Record<string, unknown> | undefined): Promise<void> => {
  if (!cursor) return;
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.schema(),
        UpdateExpression: 'SET upgradeCursor = :c',
        ConditionExpression: SCAN_PENDING,
        ExpressionAttributeValues: { ':c': cursor, ':pending': true },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
};
