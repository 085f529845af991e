import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';

/**
 * One bounded page of a Scan of the whole table, filtered. The jobs that must reach rows no index
 * lists scan: erasure and tenant purge (a tenant's rows sit in partitions `T#{t}#…` no index lists:
 * raw deliveries, event payloads, derived rows), and the local retention sweep (expired rows). A
 * Scan reads the whole table whatever the filter: each full pass costs one read unit per 4 KB of
 * the table (half that, eventually consistent), so each runs resumably, one bounded page per step.
 */
export interface ScanPage {
  rows: Record<string, unknown>[];
  /** where the next page starts; undefined when the pass is complete */
  next: Record<string, unknown> | undefined;
  /** rows the page read before filtering (what it cost; `limit` bounds it) */
  scanned: number;
}

export const scanPage = async (
  db: Db,
  filter: { expression: string; names?: Record<string, string>; values: Record<string, unknown>; projection?: string },
  startKey: Record<string, unknown> | null | undefined,
  limit = 200,
): Promise<ScanPage> => {
  const page = await db.doc.send(
    new ScanCommand({
      TableName: db.table,
      FilterExpression: filter.expression,
      ...(filter.names ? { ExpressionAttributeNames: filter.names } : {}),
      ExpressionAttributeValues: filter.values,
      ...(filter.projection ? { ProjectionExpression: filter.projection } : {}),
      Limit: limit,
      ExclusiveStartKey: startKey ?? undefined,
    }),
  );
  return { rows: page.Items ?? [], next: page.LastEvaluatedKey, scanned: page.ScannedCount ?? 0 };
};
