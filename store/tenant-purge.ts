import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchWrite } from './batch.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { readPartition } from './partition.ts';
import { scanPage } from './scan-page.ts';

/**
 * Deleting everything of a tenant: every `T#{t}#…` partition (items, derived rows, deliveries and
 * their parts, events, counters, people, audit…), and the rows outside them that name the tenant
 * (tokens, connections, jobs). Rows in the cross-tenant index partitions (`watch`, the queues,
 * `reconcile`, `tenants`) are projections of those base rows and go with them.
 */

/** The tenant's rows, as a Scan filter: its partitions, rows carrying its id, tokens and connections (id nested). */
const purgeFilter = (tenantId: string) => ({
  expression: 'begins_with(pk, :prefix) OR tenantId = :t OR #token.#tenantId = :t OR #connection.#tenantId = :t',
  names: { '#token': 'token', '#connection': 'connection', '#tenantId': 'tenantId' },
  values: { ':prefix': `T#${tenantId}#`, ':t': tenantId },
  projection: 'pk, sk',
});

/**
 * Deletes one page of the tenant's rows (BatchWriteItem, 25 at a time). Returns where the next page
 * starts; a pass over the whole table reads every row once, whatever the tenant's size.
 */
export const purgeTenantPage = async (
  db: Db,
  tenantId: string,
  cursor: Record<string, unknown> | null,
  limit = 200,
): Promise<{ deleted: number; scanned: number; next: Record<string, unknown> | undefined }> => {
  const page = await scanPage(db, purgeFilter(tenantId), cursor, limit);
  // The tenant record goes last: until then it names the purge, so a repeated DELETE finds the job.
  const rows = page.rows.filter((row) => row.pk !== keys.tenant(tenantId).pk);
  await batchWrite(db, rows.map((row) => ({ DeleteRequest: { Key: { pk: row.pk, sk: row.sk } } })));
  return { deleted: rows.length, scanned: page.scanned, next: page.next };
};

/** Rows of a deleted connection's partition (`CONN#{id}`: the connection, its running backfill, its reconciliation state). */
export const purgeConnectionRows = async (db: Db, connectionId: string): Promise<number> => {
  const rows = await readPartition(db, keys.connection(connectionId).pk);
  await batchWrite(db, rows.map((row) => ({ DeleteRequest: { Key: { pk: row.pk, sk: row.sk } } })));
  return rows.length;
};

/** The tenant record with the purge that deletes it, if one was started. */
export const getTenantPurge = async (db: Db, tenantId: string): Promise<{ exists: boolean; purgeJobId?: string }> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.tenant(tenantId), ConsistentRead: true }));
  return { exists: Item !== undefined, ...(Item?.purgeJobId ? { purgeJobId: String(Item.purgeJobId) } : {}) };
};

export const markTenantPurging = async (db: Db, tenantId: string, at: string, jobId: string): Promise<void> => {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.tenant(tenantId),
      UpdateExpression: 'SET deletedAt = if_not_exists(deletedAt, :at), purgeJobId = :job',
      ExpressionAttributeValues: { ':at': at, ':job': jobId },
      ConditionExpression: 'attribute_exists(pk)',
    }),
  );
};

export const deleteTenantRecord = async (db: Db, tenantId: string): Promise<void> => {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.tenant(tenantId) }));
};
