import type { BlockedBy } from '../core/bottlenecks.ts';
import type { WorkItem } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { type DependencyState, getDependencyStates } from './dependency-state.ts';
import { getItems, listItems } from './item-queries.ts';

/**
 * The tenant's blocked work, as the views that analyse it (bottlenecks, the digest, the overview's
 * blocked chains) read it: the sparse blocked index, then the dependency state of each blocked item,
 * which names its open blockers. Every read grows with blocked work, never with the index.
 */

/** Blocked items read at most by default: a bound on what one analysis costs. */
export const MAX_BLOCKED = 5000;

export interface BlockedItems {
  items: WorkItem[];
  /** the dependency state of each blocked item (`openBlockers`, `blockedSince`) */
  states: Map<string, DependencyState>;
}

/** The blocked items (at most `max`) with their dependency states. */
export const readBlockedItems = async (db: Db, tenantId: string, max = MAX_BLOCKED): Promise<BlockedItems> => {
  const items: WorkItem[] = [];
  let cursor: string | undefined;
  do {
    const page = await listItems(db, tenantId, { blocked: true }, { limit: 200, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && items.length < max);
  return { items, states: await getDependencyStates(db, tenantId, items.map((i) => i.id)) };
};

export interface BlockingGraph {
  /** each blocked item with the open blockers its dependency state names */
  blockedBy: BlockedBy[];
  /** the blocked items and their blockers, the ones not blocked themselves included */
  items: Map<string, WorkItem>;
}

/**
 * What waits on what: the blocked items, their open blockers, and the blockers that are not
 * blocked themselves (one BatchGet), so every item of every blocking chain is at hand.
 */
export const readBlockingGraph = async (db: Db, tenantId: string, max = MAX_BLOCKED): Promise<BlockingGraph> => {
  const blocked = await readBlockedItems(db, tenantId, max);
  const blockedBy: BlockedBy[] = blocked.items.map((item) => ({ blocked: item.id, blockers: blocked.states.get(item.id)?.openBlockers ?? [] }));
  const items = new Map(blocked.items.map((i) => [i.id, i]));
  const missing = [...new Set(blockedBy.flatMap((b) => b.blockers))].filter((id) => !items.has(id));
  for (const [id, item] of await getItems(db, tenantId, missing)) items.set(id, item);
  return { blockedBy, items };
};
