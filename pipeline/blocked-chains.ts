import { type BlockedChain, longestBlockedChains } from '../core/blocked-chains.ts';
import type { WorkItem } from '../core/work-item.ts';
import type { Db } from '../store/db.ts';
import { getDependencyStates } from '../store/dependency-state.ts';
import { getItems, listItems } from '../store/item-queries.ts';

/** Blocked items read at most: the cost grows with blocked work, never with the index. */
const MAX_BLOCKED = 2000;

/**
 * The longest blocking chains of a tenant for the overview page: the blocked items (the sparse
 * blocked index), their open blockers (dependency state), and the blockers that are not blocked
 * themselves (one BatchGet).
 */
export const loadBlockedChains = async (db: Db, tenantId: string, limit = 5): Promise<BlockedChain[]> => {
  const blocked: WorkItem[] = [];
  let cursor: string | undefined;
  do {
    const page = await listItems(db, tenantId, { blocked: true }, { limit: 200, ...(cursor ? { cursor } : {}) });
    blocked.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && blocked.length < MAX_BLOCKED);
  const states = await getDependencyStates(db, tenantId, blocked.map((i) => i.id));
  const blockedBy = blocked.map((item) => ({ blocked: item.id, blockers: states.get(item.id)?.openBlockers ?? [] }));
  const items = new Map(blocked.map((i) => [i.id, i]));
  const missing = [...new Set(blockedBy.flatMap((b) => b.blockers))].filter((id) => !items.has(id));
  for (const [id, item] of await getItems(db, tenantId, missing)) items.set(id, item);
  return longestBlockedChains(blockedBy, items, limit);
};
