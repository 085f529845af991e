import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type ItemFilter, matchesFilter } from '../core/item-filter.ts';
import type { WorkItem } from '../core/work-item.ts';
import { LARGE_ROWS_PER_REQUEST, batchGet } from './batch.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { decodeItemDoc } from './item-codec.ts';
import { isoKey } from './items.ts';
import { getDependencyStates } from './dependency-state.ts';
import { type IndexName, TABLE_SCHEMA } from './table.ts';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface Plan {
  index: IndexName;
  partition: string;
  /** facet rows hold an item id, not the item: read the items after the query */
  facet: boolean;
}

/** Picks the narrowest index for a filter; the remaining conditions are applied to the items read. */
const planQuery = (tenantId: string, filter: ItemFilter): Plan => {
  // Dependency state rows are listed while blocked (sparse) and hold the item id, like facet rows.
  if (filter.blocked === true) return { index: 'gsi1', partition: keys.itemsBlocked(tenantId), facet: true };
  if (filter.owner) return { index: 'gsi1', partition: keys.itemsByFacet(tenantId, 'owner', filter.owner.toLowerCase()), facet: true };
  if (filter.label) return { index: 'gsi1', partition: keys.itemsByFacet(tenantId, 'label', filter.label), facet: true };
  if (filter.container) return { index: 'gsi3', partition: keys.itemsByContainer(tenantId, filter.container), facet: false };
  if (filter.status) return { index: 'gsi2', partition: keys.itemsByStatus(tenantId, filter.status), facet: false };
  return { index: 'gsi1', partition: keys.itemsOf(tenantId), facet: false };
};

/** Reads items by id: eventually consistent for display, `consistent` for decisions (alert evaluation). */
export const getItems = async (db: Db, tenantId: string, ids: readonly string[], options: { consistent?: boolean } = {}): Promise<Map<string, WorkItem>> => {
  const rows = await batchGet(db, ids.map((id) => keys.item(tenantId, id)), { ...options, keysPerRequest: LARGE_ROWS_PER_REQUEST });
  return new Map(rows.map((row) => decodeItemDoc(row.doc)).map((item) => [item.id, item]));
};

const indexKeyOf = (plan: Plan, row: Record<string, unknown>): Record<string, unknown> => {
  const { partitionKey, sortKey } = TABLE_SCHEMA.indexes[plan.index];
  return { pk: row.pk, sk: row.sk, [partitionKey]: row[partitionKey], [sortKey]: row[sortKey] };
};

/** A list entry: the item with its derived `blocked` flag (from its dependency state, like `?blocked=`). */
export type ListedItem = WorkItem & { blocked: boolean };

/** Index rows hold the item id (facet and dependency state rows) or are the item record's own. */
const itemIdOfRow = (row: Record<string, unknown>): string => String(row.itemId ?? String(row.pk).split('#ITEM#')[1]);

/**
 * Lists items newest-updated first, each with its `blocked` flag. Per index page: one Query, then
 * one BatchGet of the rows' dependency states (the flag, re-checked on the state itself, never on
 * an index row alone), in parallel with the BatchGet of the items when the index holds only ids.
 * Reads index pages until `limit` matching items are found or the index is exhausted; the cursor
 * is the index key of the last item returned.
 */
export const listItems = async (
  db: Db,
  tenantId: string,
  filter: ItemFilter,
  page: { limit: number; cursor?: string },
): Promise<Page<ListedItem>> => {
  const plan = planQuery(tenantId, filter);
  const { partitionKey, sortKey } = TABLE_SCHEMA.indexes[plan.index];
  // One condition is the index itself: read just one more row than the page, to know if there is more.
  const conditions = Object.entries(filter).filter(([name, value]) => value !== undefined && name !== 'includeDeleted').length;
  const queryLimit = conditions <= 1 ? page.limit + 1 : Math.max(page.limit * 2, 25);
  const out: ListedItem[] = [];
  let startKey = page.cursor ? decodeCursor(page.cursor, plan.partition) : undefined;
  let lastKey: Record<string, unknown> | undefined;
  for (;;) {
    const result = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: plan.index,
        KeyConditionExpression: filter.updatedSince ? '#pk = :p AND #sk >= :since' : '#pk = :p',
        // What a list entry and its cursor read: an item row also holds the events of its last write.
        ProjectionExpression: 'pk, sk, itemId, #doc, #pk, #sk',
        ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey, '#doc': 'doc' },
        ExpressionAttributeValues: { ':p': plan.partition, ...(filter.updatedSince ? { ':since': isoKey(filter.updatedSince) } : {}) },
        ScanIndexForward: false,
        Limit: queryLimit,
        ExclusiveStartKey: startKey,
      }),
    );
    const rows = result.Items ?? [];
    const ids = rows.map(itemIdOfRow);
    const [items, states] = await Promise.all([plan.facet ? getItems(db, tenantId, ids) : undefined, getDependencyStates(db, tenantId, ids)]);
    for (const row of rows) {
      const item = items ? items.get(itemIdOfRow(row)) : decodeItemDoc(row.doc);
      lastKey = indexKeyOf(plan, row);
      const blocked = item ? (states.get(item.id)?.blocked ?? false) : false;
      if (item && (filter.blocked === undefined || blocked === filter.blocked) && matchesFilter(item, filter)) out.push({ ...item, blocked });
      if (out.length === page.limit) {
        const more = row !== rows.at(-1) || result.LastEvaluatedKey !== undefined;
        return { items: out, nextCursor: more ? encodeCursor(plan.partition, lastKey) : null };
      }
    }
    startKey = result.LastEvaluatedKey;
    if (!startKey) return { items: out, nextCursor: null };
  }
};
