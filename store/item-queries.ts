import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type ItemFilter, matchesFilter } from '../core/item-filter.ts';
import type { WorkItem } from '../core/work-item.ts';
import { batchGet, batchWrite } from './batch.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { decodeItemDoc } from './item-codec.ts';
import { isoKey } from './items.ts';
import { getDependencyStates } from './dependency-state.ts';
import { facetPartitionsComplete } from './schema-state.ts';
import { type IndexName, TABLE_SCHEMA } from './table.ts';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface Plan {
  /** the index to query; none for owner and label entries, which are table rows */
  index?: IndexName;
  partition: string;
  /** rows hold an item id, not the item: read the items after the query */
  ids: boolean;
  /** rows are owner or label entries, sorted by their item's update at writing: one older than its item is stale */
  entries: boolean;
  /** every row of the partition matches the filter's one condition */
  exact: boolean;
}

/**
 * Picks the narrowest partition for a filter; the remaining conditions are applied to the items
 * read. Owner and label entries are used once the table has them all (`facetsReady`: a table an
 * upgrade is still moving them into is read by the other indexes, and filtered).
 */
const planQuery = (tenantId: string, filter: ItemFilter, facetsReady: boolean): Plan => {
  // Dependency state rows are listed while blocked (sparse) and hold the item id, like entries.
  if (filter.blocked === true) return { index: 'gsi1', partition: keys.itemsBlocked(tenantId), ids: true, entries: false, exact: true };
  if (filter.owner && facetsReady) return { partition: keys.itemsByFacet(tenantId, 'owner', filter.owner.toLowerCase()), ids: true, entries: true, exact: true };
  if (filter.label && facetsReady) return { partition: keys.itemsByFacet(tenantId, 'label', filter.label), ids: true, entries: true, exact: true };
  const exact = !filter.owner && !filter.label;
  if (filter.container) return { index: 'gsi3', partition: keys.itemsByContainer(tenantId, filter.container), ids: false, entries: false, exact };
  if (filter.status) return { index: 'gsi2', partition: keys.itemsByStatus(tenantId, filter.status), ids: false, entries: false, exact };
  return { index: 'gsi1', partition: keys.itemsOf(tenantId), ids: false, entries: false, exact };
};

const keysOf = (plan: Plan) => (plan.index ? TABLE_SCHEMA.indexes[plan.index] : { partitionKey: TABLE_SCHEMA.partitionKey, sortKey: TABLE_SCHEMA.sortKey });

/** What a cursor is scoped to: the partition, and whether it is the table's or an index's (their keys differ). */
const cursorScope = (plan: Plan) => (plan.index ? plan.partition : `table:${plan.partition}`);

/**
 * Reads items by id: eventually consistent for display, `consistent` for decisions (alert
 * evaluation). Only the item itself is read (under half a kilobyte compressed), not the events
 * its record holds since its last write: a page of 50 is one request.
 */
export const getItems = async (db: Db, tenantId: string, ids: readonly string[], options: { consistent?: boolean } = {}): Promise<Map<string, WorkItem>> => {
  const rows = await batchGet(db, ids.map((id) => keys.item(tenantId, id)), { ...options, attributes: ['doc'] });
  return new Map(rows.map((row) => decodeItemDoc(row.doc)).map((item) => [item.id, item]));
};

const indexKeyOf = (plan: Plan, row: Record<string, unknown>): Record<string, unknown> => {
  const { partitionKey, sortKey } = keysOf(plan);
  return { pk: row.pk, sk: row.sk, [partitionKey]: row[partitionKey], [sortKey]: row[sortKey] };
};

/** A list entry: the item with its derived `blocked` flag (from its dependency state, like `?blocked=`). */
export type ListedItem = WorkItem & { blocked: boolean };

/** Entries and dependency state rows hold the item id; the indexes' other rows are the item record's own. */
const itemIdOfRow = (row: Record<string, unknown>): string => String(row.itemId ?? String(row.pk).split('#ITEM#')[1]);

/**
 * Lists items newest-updated first, each with its `blocked` flag. Per page of the partition: one
 * Query, then one BatchGet of the rows' dependency states (the flag, re-checked on the state itself,
 * never on an index row alone), in parallel with the BatchGet of the items when the rows hold only
 * ids. Reads pages until `limit` matching items are found or the partition is exhausted; the cursor
 * is the key of the last row read. Owner and label entries older than their item (left by a crash
 * between an item's write and its entries', or moved by an upgrade after the item changed) are
 * skipped and deleted: an item's current entry is the one at its update time.
 */
export const listItems = async (
  db: Db,
  tenantId: string,
  filter: ItemFilter,
  page: { limit: number; cursor?: string },
): Promise<Page<ListedItem>> => {
  const plan = planQuery(tenantId, filter, await facetPartitionsComplete(db));
  const { partitionKey, sortKey } = keysOf(plan);
  // One condition the partition decides: read just one more row than the page, to know if there is more.
  const conditions = Object.entries(filter).filter(([name, value]) => value !== undefined && name !== 'includeDeleted').length;
  const queryLimit = conditions <= 1 && plan.exact ? page.limit + 1 : Math.max(page.limit * 2, 25);
  // What a list entry and its cursor read: an item record also holds the events of its last write.
  const projection = [...new Set(['pk', 'sk', 'itemId', ...(plan.ids ? [] : ['doc']), partitionKey, sortKey])];
  const out: ListedItem[] = [];
  let startKey = page.cursor ? decodeCursor(page.cursor, cursorScope(plan)) : undefined;
  let lastKey: Record<string, unknown> | undefined;
  const staleEntries: Record<string, unknown>[] = [];
  const done = async (nextCursor: string | null): Promise<Page<ListedItem>> => {
    if (staleEntries.length > 0) await batchWrite(db, staleEntries.map((Key) => ({ DeleteRequest: { Key } })), { inAnyOrder: true });
    return { items: out, nextCursor };
  };
  for (;;) {
    const result = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        ...(plan.index ? { IndexName: plan.index } : {}),
        KeyConditionExpression: filter.updatedSince ? '#pk = :p AND #sk >= :since' : '#pk = :p',
        ProjectionExpression: projection.map((_, i) => `#a${i}`).join(', '),
        ExpressionAttributeNames: { '#pk': partitionKey, ...(filter.updatedSince ? { '#sk': sortKey } : {}), ...Object.fromEntries(projection.map((name, i) => [`#a${i}`, name])) },
        ExpressionAttributeValues: { ':p': plan.partition, ...(filter.updatedSince ? { ':since': isoKey(filter.updatedSince) } : {}) },
        ScanIndexForward: false,
        Limit: queryLimit,
        ExclusiveStartKey: startKey,
      }),
    );
    const rows = result.Items ?? [];
    const ids = rows.map(itemIdOfRow);
    const [items, states] = await Promise.all([plan.ids ? getItems(db, tenantId, ids) : undefined, getDependencyStates(db, tenantId, ids)]);
    for (const row of rows) {
      const item = items ? items.get(itemIdOfRow(row)) : decodeItemDoc(row.doc);
      lastKey = indexKeyOf(plan, row);
      // An entry left from an earlier update (a re-run wrote the current one without knowing the previous): its item is listed at its current entry.
      const stale = item !== undefined && plan.entries && String(row.sk) < keys.byUpdated(isoKey(item.updatedAt), item.id);
      if (stale) staleEntries.push({ pk: row.pk, sk: row.sk });
      const blocked = item ? (states.get(item.id)?.blocked ?? false) : false;
      if (item && !stale && (filter.blocked === undefined || blocked === filter.blocked) && matchesFilter(item, filter)) out.push({ ...item, blocked });
      if (out.length === page.limit) {
        const more = row !== rows.at(-1) || result.LastEvaluatedKey !== undefined;
        return done(more ? encodeCursor(cursorScope(plan), lastKey) : null);
      }
    }
    startKey = result.LastEvaluatedKey;
    if (!startKey) return done(null);
  }
};
