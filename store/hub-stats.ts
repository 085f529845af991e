import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { queryPages } from './partition.ts';
import type { QueueName } from './queue.ts';

/**
 * Cheap reads for health checks and metrics (GET /readyz, GET /metrics, the sweep's EMF figures):
 * each is one request or a bounded few, whatever the size of the index.
 */

/** Whether the engine answers: one GetItem of the schema record, which every table has. */
export const pingEngine = async (db: Db): Promise<void> => {
  await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.schema(), ProjectionExpression: 'pk' }));
};

/**
 * When the oldest delivery still waiting for the processor was received (ISO), or undefined when
 * the inbox is empty: one Query of the inbox queue (sorted by `{receivedAt}#{pk}`), Limit 1.
 */
export const oldestPendingDelivery = async (db: Db): Promise<string | undefined> => {
  const { Items } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'queue',
      KeyConditionExpression: 'qpk = :q',
      ExpressionAttributeValues: { ':q': keys.queue.inbox },
      ProjectionExpression: 'qsk',
      Limit: 1,
    }),
  );
  const qsk = Items?.[0]?.qsk;
  return qsk === undefined ? undefined : String(qsk).split('#', 1)[0];
};

/** Seconds since the oldest pending delivery was received; 0 when nothing waits. */
export const processingLagSeconds = async (db: Db, now: Date): Promise<number> => {
  const oldest = await oldestPendingDelivery(db);
  return oldest ? Math.max(0, (now.getTime() - Date.parse(oldest)) / 1000) : 0;
};

/** How many records wait on a queue, counted up to `bound` (a COUNT query, paged until the bound). */
export const countQueued = async (db: Db, queue: QueueName, bound = 1000): Promise<number> => {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: 'queue',
        KeyConditionExpression: 'qpk = :q',
        ExpressionAttributeValues: { ':q': keys.queue[queue] },
        Select: 'COUNT',
        Limit: bound - count,
        ExclusiveStartKey: startKey,
      }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey && count < bound);
  return Math.min(count, bound);
};

/** Ids of the tenants that exist (not deleted), from the `tenants` partition of gsi1. */
export const listTenantIds = async (db: Db): Promise<string[]> => {
  const out: string[] = [];
  for await (const rows of queryPages(db, { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': keys.tenantsIndex } })) {
    for (const row of rows) {
      const tenant = row.tenant as { id: string } | undefined;
      if (tenant && !row.deletedAt) out.push(tenant.id);
    }
  }
  return out;
};

/**
 * Open alerts by kind over every tenant: per tenant, the rows of its `open` state partition (gsi2),
 * reading only each row's kind partition key. At most `bound` rows are read in all.
 */
export const countOpenAlertsByKind = async (db: Db, bound = 10_000): Promise<Map<string, number>> => {
  const counts = new Map<string, number>();
  let read = 0;
  for (const tenantId of await listTenantIds(db)) {
    const kindPrefix = keys.alertsByKind(tenantId, '');
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.doc.send(
        new QueryCommand({
          TableName: db.table,
          IndexName: 'gsi2',
          KeyConditionExpression: 'gsi2pk = :p',
          ExpressionAttributeValues: { ':p': keys.alertsByState(tenantId, 'open') },
          ProjectionExpression: 'gsi3pk',
          Limit: Math.min(1000, bound - read),
          ExclusiveStartKey: startKey,
        }),
      );
      for (const row of page.Items ?? []) {
        const kind = String(row.gsi3pk ?? '').slice(kindPrefix.length);
        if (kind) counts.set(kind, (counts.get(kind) ?? 0) + 1);
      }
      read += page.Items?.length ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey && read < bound);
    if (read >= bound) break;
  }
  return counts;
};
