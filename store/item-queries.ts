import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type ItemFilter, matchesFilter } from '../core/item-filter.ts';
import type { WorkItem } from '../core/work-item.ts';
import { batchGet } from './batch.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
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
  const rows = await batchGet(db, ids.map((id) => keys.item(tenantId, id)), options);
  return new Map(rows.map((row) => JSON.parse(String(row.doc)) as WorkItem).map((item) => [item.id, item]));
};

const indexKeyOf = (plan: Plan, row: Record<string, unknown>): Record<string, unknown> => {
  const { partitionKey, sortKey } = TABLE_SCHEMA.indexes[plan.index];
  return { pk: row.pk, sk: row.sk, [partitionKey]: row[partitionKey], [sortKey]: row[sortKey] };
};

/** A list entry: the item with its derived `blocked` flag (from its dependency state, like `?blocked=`). */
export type ListedItem = WorkItem & { blocked: boolean };

/**
 * Lists items newest-updated first, each with its `blocked` flag: one BatchGet of the page's
 * dependency state rows, not one read per item (none more when `blocked` filters, which reads them
 * anyway).
 */
export const listItems = async (
  db: Db,
  tenantId: string,
  filter: ItemFilter,
  page: { limit: number; cursor?: string },
): Promise<Page<ListedItem>> => {
  const found = await listMatchingItems(db, tenantId, filter, page);
  if (filter.blocked !== undefined) return { ...found, items: found.items.map((item) => ({ ...item, blocked: filter.blocked! })) };
  const states = await getDependencyStates(db, tenantId, found.items.map((i) => i.id));
  return { ...found, items: found.items.map((item) => ({ ...item, blocked: states.get(item.id)?.blocked ?? false })) };
};

/**
 * Reads index pages until `limit` matching items are found or the index is exhausted; the cursor
 * is the index key of the last item returned.
 */
const listMatchingItems = async (
  db: Db,
  tenantId: string,
  filter: ItemFilter,
  page: { limit: number; cursor?: string },
): Promise<Page<WorkItem>> => {
  const plan = planQuery(tenantId, filter);
  const { partitionKey, sortKey } = TABLE_SCHEMA.indexes[plan.index];
  const out: WorkItem[] = [];
  let startKey = page.cursor ? decodeCursor(page.cursor, plan.partition) : undefined;
  let lastKey: Record<string, unknown> | undefined;
  for (;;) {
    const result = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: plan.index,
        KeyConditionExpression: filter.updatedSince ? '#pk = :p AND #sk >= :since' : '#pk = :p',
        ExpressionAttributeNames: { '#pk': partitionKey, ...(filter.updatedSince ? { '#sk': sortKey } : {}) },
        ExpressionAttributeValues: { ':p': plan.partition, ...(filter.updatedSince ? { ':since': isoKey(filter.updatedSince) } : {}) },
        ScanIndexForward: false,
        Limit: Math.max(page.limit * 2, 25),
        ExclusiveStartKey: startKey,
      }),
    );
    const rows = result.Items ?? [];
    const items = plan.facet ? await getItems(db, tenantId, rows.map((r) => String(r.itemId))) : undefined;
    // The derived flag is re-checked on the dependency state itself, never on an index row alone.
    const states =
      filter.blocked === undefined ? undefined : await getDependencyStates(db, tenantId, rows.map((r) => String(r.itemId ?? String(r.pk).split('#ITEM#')[1])));
    for (const row of rows) {
      const item = items ? items.get(String(row.itemId)) : (JSON.parse(String(row.doc)) as WorkItem);
      lastKey = indexKeyOf(plan, row);
      const blockedOk = !states || !item || (states.get(item.id)?.blocked ?? false) === filter.blocked;
      if (item && blockedOk && matchesFilter(item, filter)) out.push(item);
      if (out.length === page.limit) {
        const more = row !== rows.at(-1) || result.LastEvaluatedKey !== undefined;
        return { items: out, nextCursor: more ? encodeCursor(plan.partition, lastKey) : null };
      }
    }
    startKey = result.LastEvaluatedKey;
    if (!startKey) return { items: out, nextCursor: null };
  }
};
