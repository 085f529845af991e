import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';

/** The pages of one Query, followed to the end: each page's rows as they come. */
export async function* queryPages(db: Db, input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): AsyncGenerator<Record<string, unknown>[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new QueryCommand({ TableName: db.table, ...input, ExclusiveStartKey: startKey }));
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/**
 * Every row of one partition, or of the rows whose sort key starts with `skPrefix`, across pages.
 * Strongly consistent: the main table is where correctness-critical reads happen.
 */
export const readPartition = async (db: Db, pk: string, skPrefix?: string): Promise<Record<string, unknown>[]> => {
  const rows: Record<string, unknown>[] = [];
  for await (const page of queryPages(db, {
    KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
    ExpressionAttributeValues: { ':pk': pk, ...(skPrefix ? { ':prefix': skPrefix } : {}) },
    ConsistentRead: true,
  })) {
    rows.push(...page);
  }
  return rows;
};
