import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

export interface TenantRecord {
  id: string;
  name: string;
  createdAt: string;
  deletedAt?: string;
}

export const getTenant = async (db: Db, tenantId: string): Promise<TenantRecord | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.tenant(tenantId), ConsistentRead: true }));
  return Item && !Item.deletedAt ? (Item.tenant as TenantRecord) : undefined;
};

/** Idempotent: creating an existing tenant returns false and changes nothing. */
export const createTenant = async (db: Db, tenant: TenantRecord): Promise<boolean> => {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        // On gsi1 too: hub-wide figures (open alerts in GET /metrics) go over every tenant.
        Item: { ...keys.tenant(tenant.id), tenant, gsi1pk: keys.tenantsIndex, gsi1sk: `${tenant.createdAt}#${tenant.id}` },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

export const markTenantDeleted = async (db: Db, tenantId: string, at: string): Promise<void> => {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.tenant(tenantId),
      UpdateExpression: 'SET deletedAt = :at',
      ExpressionAttributeValues: { ':at': at },
    }),
  );
};

/** Every record of a tenant listed on gsi1 under `partition` (tokens, connections). */
export const listTenantRecords = async <T>(db: Db, partition: string, attribute: string): Promise<T[]> => {
  const out: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': partition },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const row of page.Items ?? []) out.push(row[attribute] as T);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return out;
};

export const deleteRecord = async (db: Db, key: { pk: string; sk: string }): Promise<void> => {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: key }));
};
