import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { queryPages } from './partition.ts';

export interface TenantRecord {
  id: string;
  name: string;
  createdAt: string;
  deletedAt?: string;
}

const tenantsIndexEntry = (tenant: TenantRecord) => ({ gsi1pk: keys.tenantsIndex, gsi1sk: `${tenant.createdAt}#${tenant.id}` });

/**
 * Idempotent: creating an existing tenant returns false and changes nothing, except that a tenant
 * created before the tenants index existed is put on it then (the local hub and the API Lambda
 * create the default tenant at every start, so it reaches the index on the first start after an
 * upgrade; other such tenants stay off it, and so out of hub-wide figures and weekly digests).
 */
export const createTenant = async (db: Db, tenant: TenantRecord): Promise<boolean> => {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        // On gsi1 too: hub-wide work (open alerts in GET /metrics, weekly digests) goes over every tenant.
        Item: { ...keys.tenant(tenant.id), tenant, ...tenantsIndexEntry(tenant) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    await indexExistingTenant(db, tenant.id);
    return false;
  }
};

/** Puts an existing, undeleted tenant on the tenants index (with its own creation time) when it is not yet. */
const indexExistingTenant = async (db: Db, tenantId: string): Promise<void> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.tenant(tenantId), ConsistentRead: true }));
  if (!Item || Item.gsi1pk || Item.deletedAt) return;
  const entry = tenantsIndexEntry(Item.tenant as TenantRecord);
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.tenant(tenantId),
        UpdateExpression: 'SET gsi1pk = :p, gsi1sk = :s',
        // A purge started meanwhile wins: a deleted tenant never comes back on the index.
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(gsi1pk) AND attribute_not_exists(deletedAt)',
        ExpressionAttributeValues: { ':p': entry.gsi1pk, ':s': entry.gsi1sk },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
};

/** Every record of a tenant listed on gsi1 under `partition` (tokens, connections). */
export const listTenantRecords = async <T>(db: Db, partition: string, attribute: string): Promise<T[]> => {
  const out: T[] = [];
  for await (const rows of queryPages(db, { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': partition } })) {
    for (const row of rows) out.push(row[attribute] as T);
  }
  return out;
};

export const deleteRecord = async (db: Db, key: { pk: string; sk: string }): Promise<void> => {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: key }));
};
