import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { WorkItem } from '../core/work-item.ts';
import type { StatusCategory } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { decodeItemDoc } from './item-codec.ts';
import { isoKey } from './items.ts';

/**
 * Every item of one status partition (gsi2), optionally only those updated since `since`. The views
 * read bounded ranges: work in progress (its size is the WIP, not the index), and done items updated
 * within the flow window (a done item's updatedAt is at least its closedAt, so the range holds every
 * item closed in the window). Re-checked against the item itself: a stale index row never counts.
 * `select` keeps only what the caller needs of each item, page by page: an analysis of tens of
 * thousands of items then never holds them all whole.
 */
export const itemsInStatus = async <T = WorkItem>(
  db: Db,
  tenantId: string,
  status: StatusCategory,
  options: { since?: string; select?: (item: WorkItem) => T } = {},
): Promise<T[]> => {
  const { since, select = (item: WorkItem) => item as T } = options;
  const out: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: 'gsi2',
        KeyConditionExpression: since ? 'gsi2pk = :p AND gsi2sk >= :since' : 'gsi2pk = :p',
        // The item alone, not the events of its last write it also holds.
        ProjectionExpression: '#doc',
        ExpressionAttributeNames: { '#doc': 'doc' },
        ExpressionAttributeValues: { ':p': keys.itemsByStatus(tenantId, status), ...(since ? { ':since': isoKey(since) } : {}) },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const row of page.Items ?? []) {
      const item = decodeItemDoc(row.doc);
      if (item.status.category === status && !item.deleted) out.push(select(item));
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return out;
};
