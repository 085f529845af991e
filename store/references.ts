import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ItemChange } from '../core/changes.ts';
import type { Link } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { type WriteRequest, batchGet, batchWrite } from './batch.ts';
import { inboundMarkerRow } from './items.ts';
import { keys } from './keys.ts';
import { readPartition } from './partition.ts';

/**
 * What the processor knows to resolve references across tools, all on the main table with strongly
 * consistent reads (never through a GSI) and written with single-item conditional puts:
 * - the tenant's Jira projects (key → site), so `ACME-12` in a pull request resolves and `UTF-8` does not;
 * - aliases: other refs of an item (`jira:ACME-12` before its site was known, `jira:{site}/id/10012`
 *   as Jira's link events name issues, a key before a move) → the item's ref;
 * - pending changes: link, activity and delete changes that arrived before their item.
 */

/** Records a project's site; the first site recorded for a key keeps it. Idempotent. */
export const rememberJiraProject = async (db: Db, tenantId: string, projectKey: string, site: string): Promise<void> => {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...keys.jiraProject(tenantId, projectKey), project: projectKey, site },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
};

/** The tenant's known Jira projects: key → site. */
export const listJiraProjects = async (db: Db, tenantId: string): Promise<Record<string, string>> =>
  Object.fromEntries((await readPartition(db, keys.jiraProjectsOf(tenantId))).map((row) => [String(row.project), String(row.site)]));

/**
 * Points `alias` at `ref`, unless the alias already points elsewhere from a newer observation (an
 * issue moved back and forth: the latest state wins, whatever order the deliveries arrive in).
 * Returns whether the alias now points at `ref`.
 */
export const putRefAlias = async (db: Db, tenantId: string, alias: string, ref: string, at: string): Promise<boolean> => {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...keys.refAlias(tenantId, alias), alias, ref, at },
        ConditionExpression: 'attribute_not_exists(pk) OR #at < :at OR (#at = :at AND #ref = :ref)',
        ExpressionAttributeNames: { '#at': 'at', '#ref': 'ref' },
        ExpressionAttributeValues: { ':at': at, ':ref': ref },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

/**
 * {@link putRefAlias} for a batch: the alias rows are read at once, and those the condition allows
 * are returned as writes for the batch's BatchWriteItem (the read was strongly consistent and just
 * before). Resolves with the writes and the aliases that will point at their ref.
 */
export const refAliasWrites = async (
  db: Db,
  tenantId: string,
  wanted: readonly { alias: string; ref: string; at: string }[],
): Promise<{ writes: WriteRequest[]; pointing: { alias: string; ref: string }[] }> => {
  const rows = new Map((await batchGet(db, wanted.map((w) => keys.refAlias(tenantId, w.alias)), { consistent: true })).map((row) => [String(row.alias), row]));
  const allowed = wanted.filter((w) => {
    const row = rows.get(w.alias);
    return !row || String(row.at) < w.at || (String(row.at) === w.at && String(row.ref) === w.ref);
  });
  return {
    writes: allowed.map((w) => ({ PutRequest: { Item: { ...keys.refAlias(tenantId, w.alias), alias: w.alias, ref: w.ref, at: w.at } } })),
    pointing: allowed.map((w) => ({ alias: w.alias, ref: w.ref })),
  };
};

/** The ref an alias points at, if any. */
export const getRefAlias = async (db: Db, tenantId: string, alias: string): Promise<string | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.refAlias(tenantId, alias), ConsistentRead: true }));
  return Item?.ref === undefined ? undefined : String(Item.ref);
};

/** The reverse edges stored at an item (who links to it), read from its own partition. */
export const listIncomingEdges = async (db: Db, tenantId: string, itemId: string): Promise<{ from: string; link: Link }[]> =>
  (await readPartition(db, keys.item(tenantId, itemId).pk, 'IN#')).map((row) => ({ from: String(row.from), link: row.link as Link }));

/** A change kept until its item is indexed, with the causation key its events are derived from. */
export interface PendingChange {
  causationKey: string;
  change: ItemChange;
}

/** How long a change waits for an item that never arrives (the inbox keeps deliveries as long). */
const PENDING_DAYS = 30;

/** Keeps a change for an item not indexed yet, in the item's own partition, with the partition's inbound marker. Idempotent. */
export const putPendingChange = async (db: Db, tenantId: string, itemId: string, pending: PendingChange, now: Date): Promise<void> => {
  await batchWrite(db, [
    {
      PutRequest: {
        Item: {
          ...keys.pendingChange(tenantId, itemId, pending.causationKey),
          causationKey: pending.causationKey,
          change: JSON.stringify(pending.change),
          expiresAt: Math.floor(now.getTime() / 1000) + PENDING_DAYS * 86_400,
        },
      },
    },
    { PutRequest: { Item: inboundMarkerRow(tenantId, itemId) } },
  ]);
};

/** The changes waiting for an item. */
export const listPendingChanges = async (db: Db, tenantId: string, itemId: string): Promise<PendingChange[]> =>
  (await readPartition(db, keys.item(tenantId, itemId).pk, 'PENDING#')).map((row) => ({
    causationKey: String(row.causationKey),
    change: JSON.parse(String(row.change)) as ItemChange,
  }));

export const deletePendingChange = async (db: Db, tenantId: string, itemId: string, causationKey: string): Promise<void> => {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.pendingChange(tenantId, itemId, causationKey) }));
};
