import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { batchWrite } from './batch.ts';
import type { Db } from './db.ts';
import { inboundMarkerRow } from './items.ts';
import { keys } from './keys.ts';
import { claimCurrentVersion, markUpgraded } from './schema-state.ts';
import { SCHEMA_VERSION, UPGRADABLE_SCHEMA_VERSIONS } from './table.ts';

/*
 * Schema versions 2 and 3 → 4 in place. The version itself is set at start, before anything is
 * written (store/schema-state.ts `claimCurrentVersion`): from 3 that is all, since item records
 * written before version 4 compressed them (store/item-codec.ts) are read as they are. From 2, the
 * scan below is left to do (`markersPending` in the schema row):
 *
 * Version 3 keeps an inbound marker in every item partition where
 * rows of other items may wait (reverse edges `IN#`, changes kept for an item not indexed yet
 * `PENDING#`): batched processing reads one marker per item instead of querying each partition.
 * A table written by version 2 has those rows without markers, so the upgrade scans it once and
 * writes them; until it has finished, processing treats every item as one that others link to
 * (the slower one-by-one path, correct either way). The scan's position is kept in the schema row,
 * so an upgrade stopped by a deadline or a crash continues where it was, and running it twice, or
 * two at once, writes the same markers again and nothing else.
 */

export interface UpgradeProgress {
  /** rows read by this run */
  scanned: number;
  /** partitions given their marker by this run */
  markers: number;
  /** true once the table is at the current schema version */
  done: boolean;
}

const isWaitingRow = (sk: string): boolean => sk.startsWith('IN#') || sk.startsWith('PENDING#');

/** `T#{tenant}#ITEM#{id}` → the tenant and item, for the partition's marker. */
const itemPartition = (pk: string): { tenantId: string; itemId: string } | undefined => {
  const match = /^T#(.+?)#ITEM#(.+)$/.exec(pk);
  return match ? { tenantId: match[1]!, itemId: match[2]! } : undefined;
};

/**
 * Upgrades a version-2 or version-3 table to the current version, a version 2's scan page by page
 * from where the last run stopped, until done or past `deadline` (epoch ms). Resolves at once on a
 * current table.
 */
export const upgradeSchema = async (
  db: Db,
  options: { deadline?: number; pageSize?: number; onProgress?: (progress: UpgradeProgress) => void } = {},
): Promise<UpgradeProgress> => {
  const progress: UpgradeProgress = { scanned: 0, markers: 0, done: false };
  const read = async () => (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.schema(), ConsistentRead: true }))).Item;
  let schema = await read();
  if (schema && Number(schema.version) < SCHEMA_VERSION) {
    if (!UPGRADABLE_SCHEMA_VERSIONS.includes(Number(schema.version))) throw new Error(`Schema version ${schema.version} cannot be upgraded in place`);
    // Set at start by this code; here for a table an older process was upgrading.
    await claimCurrentVersion(db, Number(schema.version));
    schema = await read();
  }
  if (!schema || schema.markersPending !== true) {
    markUpgraded(db);
    return { ...progress, done: true };
  }
  // Version 2 → 3: the inbound markers.
  let startKey = schema.upgradeCursor as Record<string, unknown> | undefined;
  do {
    if (options.deadline !== undefined && Date.now() > options.deadline) return progress;
    const page = await db.doc.send(
      new ScanCommand({
        TableName: db.table,
        ProjectionExpression: 'pk, sk',
        Limit: options.pageSize ?? 1000,
        ExclusiveStartKey: startKey,
      }),
    );
    progress.scanned += page.Items?.length ?? 0;
    const partitions = new Map<string, { tenantId: string; itemId: string }>();
    for (const row of page.Items ?? []) {
      const partition = isWaitingRow(String(row.sk)) ? itemPartition(String(row.pk)) : undefined;
      if (partition) partitions.set(String(row.pk), partition);
    }
    await batchWrite(db, [...partitions.values()].map(({ tenantId, itemId }) => ({ PutRequest: { Item: inboundMarkerRow(tenantId, itemId) } })));
    progress.markers += partitions.size;
    startKey = page.LastEvaluatedKey;
    // Markers first, then the position: a crash in between scans the page again.
    await saveCursor(db, startKey);
    options.onProgress?.(progress);
  } while (startKey);

  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.schema(),
        UpdateExpression: 'REMOVE markersPending, upgradeCursor',
        ConditionExpression: 'markersPending = :pending',
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
        ConditionExpression: 'markersPending = :pending',
        ExpressionAttributeValues: { ':c': cursor, ':pending': true },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
};
