import * as z from 'zod';
import { itemIdForRef } from '../../../core/ids.ts';
import { ItemFilter, matchesFilter } from '../../../core/item-filter.ts';
import { parseSearch, titleMatches } from '../../../core/search.ts';
import type { WorkItem } from '../../../core/work-item.ts';
import type { Db } from '../../../store/db.ts';
import { getDependencyStates } from '../../../store/dependency-state.ts';
import { type ListedItem, type Page, getItems, listItems } from '../../../store/item-queries.ts';
import { getRefAlias, listJiraProjects } from '../../../store/references.ts';

/** `GET /v1/items` and `/items`: the filters, and `q` to find items by key, ref or title words. */
export const ItemListFilter = ItemFilter.extend({
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe(
      'find items: a Jira key (`ACME-42`), `owner/repo#12`, a GitHub or Jira URL, a ref, or words that start words of the title; answers the best matches in one page (`nextCursor` null), the other filters applied',
    ),
});
export type ItemListFilter = z.infer<typeof ItemListFilter>;

/** Items a title search reads, the most recently updated first. */
const RECENT_SCANNED = 1000;

/** The items a key, URL or ref names (an alias such as `jira:ACME-42` followed to its item). */
const itemsNamed = async (db: Db, tenantId: string, refs: readonly string[]): Promise<WorkItem[]> => {
  const aliases = await Promise.all(refs.map((ref) => getRefAlias(db, tenantId, ref)));
  const ids = [...new Set([...refs, ...aliases.filter((r): r is string => r !== undefined)].map(itemIdForRef))];
  return [...(await getItems(db, tenantId, ids)).values()];
};

/**
 * Items whose title has every word (as the start of one of its words, so a word typed in part is
 * found), among the 1,000 most recently updated items: there is no title-word index (writing one
 * would add a row per title word to every item change).
 */
const itemsWithWords = async (db: Db, tenantId: string, words: readonly string[]): Promise<WorkItem[]> => {
  const found = new Map<string, WorkItem>();
  let cursor: string | undefined;
  let read = 0;
  do {
    const page = await listItems(db, tenantId, {}, { limit: 200, ...(cursor ? { cursor } : {}) });
    read += page.items.length;
    for (const item of page.items) if (titleMatches(item.title, words)) found.set(item.id, item);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && read < RECENT_SCANNED);
  return [...found.values()];
};

/** `q`: what it names, the other filters applied, newest updated first, each with its blocked flag. */
const searchItems = async (db: Db, tenantId: string, q: string, filter: ItemFilter, limit: number): Promise<Page<ListedItem>> => {
  const query = parseSearch(q, await listJiraProjects(db, tenantId));
  let found = query.kind === 'refs' ? await itemsNamed(db, tenantId, query.refs) : [];
  if (found.length === 0 && query.words.length > 0) found = await itemsWithWords(db, tenantId, query.words);
  const matching = found
    .filter((item) => matchesFilter(item, filter))
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id))
    .slice(0, limit);
  const states = await getDependencyStates(db, tenantId, matching.map((i) => i.id));
  const items = matching
    .map((item) => ({ ...item, blocked: states.get(item.id)?.blocked ?? false }))
    .filter((item) => filter.blocked === undefined || item.blocked === filter.blocked);
  return { items, nextCursor: null };
};

/** The item list: filtered through the narrowest index (store/item-queries.ts), or a search when `q` is given. */
export const loadItemList = async (db: Db, tenantId: string, query: ItemListFilter, page: { limit: number; cursor?: string }): Promise<Page<ListedItem>> => {
  const { q, ...filter } = query;
  if (q) return searchItems(db, tenantId, q, filter, page.limit);
  return listItems(db, tenantId, filter, page);
};
