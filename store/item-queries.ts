import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../core/errors.ts';
import { type ItemFilter, matchesFilter } from '../core/item-filter.ts';
import type { WorkItem } from '../core/work-item.ts';
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

export class InvalidCursorError extends AppError {
  constructor() {
    super({
      status: 400,
      type: 'invalid-cursor',
      title: 'Invalid cursor',
      detail: 'The cursor does not belong to this query. Pass `nextCursor` back unchanged, with the same filters.',
    });
    this.name = 'InvalidCursorError';
  }
}

const encodeCursor = (partition: string, key: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify({ p: partition, k: key })).toString('base64url');

const decodeCursor = (cursor: string, partition: string): Record<string, unknown> => {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p: string; k: Record<string, unknown> };
    if (parsed.p !== partition || typeof parsed.k !== 'object') throw new Error('other query');
    return parsed.k;
  } catch {
    throw new InvalidCursorError();
  }
};

/** Reads items by id (eventually consistent; for display, not for decisions). */
export const getItems = async (db: Db, tenantId: string, ids: string[]): Promise<Map<string, WorkItem>> => {
  const found = new Map<string, WorkItem>();
  let pending = ids.map((id) => keys.item(tenantId, id));
  for (let attempt = 0; pending.length > 0; attempt++) {
    const batch = pending.slice(0, 100);
    const result = await db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: batch } } }));
    for (const row of result.Responses?.[db.table] ?? []) {
      const item = JSON.parse(String(row.doc)) as WorkItem;
      found.set(item.id, item);
    }
    const unprocessed = (result.UnprocessedKeys?.[db.table]?.Keys ?? []) as typeof pending;
    pending = [...unprocessed, ...pending.slice(100)];
    if (unprocessed.length) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
  }
  return found;
};

const indexKeyOf = (plan: Plan, row: Record<string, unknown>): Record<string, unknown> => {
  const { partitionKey, sortKey } = TABLE_SCHEMA.indexes[plan.index];
  return { pk: row.pk, sk: row.sk, [partitionKey]: row[partitionKey], [sortKey]: row[sortKey] };
};

/**
 * Lists items newest-updated first. Reads index pages until `limit` matching items are found or
 * the index is exhausted; the cursor is the index key of the last item returned.
 */
export const listItems = async (
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
