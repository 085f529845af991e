import { CLOSED_STATUSES, StatusCategory } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { queryPages } from './partition.ts';
import { itemIdOfKey } from './queue.ts';

/** The status categories of open work, in the order the sweep walks them. */
const OPEN_CATEGORIES: readonly StatusCategory[] = StatusCategory.options.filter((category) => !CLOSED_STATUSES.has(category));

/** Separates a cursor's parts: tenant ids, categories and sort keys never hold it. */
const SEPARATOR = '\u001f';

interface Position {
  tenantId: string;
  category: StatusCategory;
  /** the item index's sort key of the last item returned */
  sortKey: string;
}

const cursorOf = (position: Position): string => [position.tenantId, position.category, position.sortKey].join(SEPARATOR);

/** A cursor of this listing, or undefined for anything else (a cursor of the former `watch` listing starts a new round). */
const positionOf = (cursor: string | undefined): Position | undefined => {
  const [tenantId, category, sortKey, ...rest] = cursor?.split(SEPARATOR) ?? [];
  if (tenantId === undefined || sortKey === undefined || rest.length > 0) return undefined;
  const open = OPEN_CATEGORIES.find((c) => c === category);
  return open ? { tenantId, category: open, sortKey } : undefined;
};

export interface OpenItemRef {
  tenantId: string;
  itemId: string;
  /** where a listing may go on after this item (`after`) */
  key: string;
}

/**
 * Open items of the tenants (`listTenantIds`, read once per sweep run), for the alert sweep: tenant
 * by tenant (by id), each open status category in turn, items in the order of the status index
 * (gsi2, by update time), after `after` (a previous answer's `key`). Fewer than `limit` means the
 * end was reached. Discovery only: the sweep re-reads each item. Every open item is listed, whether
 * or not it has a dependency state row.
 *
 * An item that changes while a round runs may move behind the cursor (a later update time, another
 * category): that round may then visit it twice or not at all. Its change was just evaluated by
 * processing, and the next round visits it.
 */
export const listOpenItems = async (db: Db, tenantIds: readonly string[], limit: number, after?: string): Promise<OpenItemRef[]> => {
  const start = positionOf(after);
  const tenants = [...tenantIds].sort().filter((tenantId) => start === undefined || tenantId >= start.tenantId);
  const out: OpenItemRef[] = [];
  for (const tenantId of tenants) {
    const resuming = start?.tenantId === tenantId ? start : undefined;
    const categories = resuming ? OPEN_CATEGORIES.slice(OPEN_CATEGORIES.indexOf(resuming.category)) : OPEN_CATEGORIES;
    for (const category of categories) {
      const afterKey = resuming?.category === category ? resuming.sortKey : undefined;
      for await (const rows of queryPages(db, {
        IndexName: 'gsi2',
        KeyConditionExpression: afterKey === undefined ? 'gsi2pk = :p' : 'gsi2pk = :p AND gsi2sk > :after',
        ExpressionAttributeValues: { ':p': keys.itemsByStatus(tenantId, category), ...(afterKey === undefined ? {} : { ':after': afterKey }) },
        ProjectionExpression: 'pk, gsi2sk',
        Limit: limit - out.length,
      })) {
        for (const row of rows) {
          const itemId = itemIdOfKey(String(row.pk));
          if (itemId) out.push({ tenantId, itemId, key: cursorOf({ tenantId, category, sortKey: String(row.gsi2sk) }) });
          if (out.length === limit) return out;
        }
      }
    }
  }
  return out;
};
