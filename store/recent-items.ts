import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { StatusCategory, WorkItem } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { decodeItemDoc } from './item-codec.ts';

/**
 * The most recently updated items of one status partition (gsi2), at most `max` rows read: a
 * bounded read for pages that list a few of many (a team's waiting requests), never the whole
 * partition. Re-checked against the item itself, like every index read.
 */
export const recentItemsInStatus = async (db: Db, tenantId: string, status: StatusCategory, max: number): Promise<WorkItem[]> => {
  const out: WorkItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  let read = 0;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :p',
        ExpressionAttributeValues: { ':p': keys.itemsByStatus(tenantId, status) },
        ScanIndexForward: false,
        Limit: Math.min(200, max - read),
        ExclusiveStartKey: startKey,
      }),
    );
    for (const row of page.Items ?? []) {
      const item = decodeItemDoc(row.doc);
      if (item.status.category === status && !item.deleted) out.push(item);
    }
    read += page.Items?.length ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey && read < max);
  return out;
};
