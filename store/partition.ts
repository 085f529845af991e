import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';

/**
 * Every row of one partition, or of the rows whose sort key starts with `skPrefix`, across pages.
 * Strongly consistent: the main table is where correctness-critical reads happen.
 */
export const readPartition = async (db: Db, pk: string, skPrefix?: string): Promise<Record<string, unknown>[]> => {
  const rows: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk, ...(skPrefix ? { ':prefix': skPrefix } : {}) },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    rows.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rows;
};
