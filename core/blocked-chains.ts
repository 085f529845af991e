import type { BlockedBy } from './bottlenecks.ts';
import type { WorkItem } from './work-item.ts';

/**
 * The longest blocking chains (pure): blocker → … → blocked, across tools, from the blocked items
 * and the open blockers their dependency state names. Each chain ends at a blocked item that holds
 * no other blocked item up, and goes up through its longest line of blockers. Cycles are cut where
 * they close (the dependency_cycle alert reports them), so every chain is finite.
 */
/** What a chain shows of each item: small, so the chains can be kept in a view snapshot. */
export type ChainItem = Pick<WorkItem, 'id' | 'ref' | 'title' | 'source'>;

export interface BlockedChain {
  /** the first item blocks the second, and so on; the last one waits on all of them */
  items: ChainItem[];
}

const chainItemOf = ({ id, ref, title, source }: WorkItem): ChainItem => ({ id, ref, title, source });

const MAX_VISITS = 100_000;

export const longestBlockedChains = (blockedBy: readonly BlockedBy[], items: ReadonlyMap<string, WorkItem>, limit = 5): BlockedChain[] => {
  const blockersOf = new Map(blockedBy.map((b) => [b.blocked, b.blockers.filter((id) => items.has(id))]));
  const memo = new Map<string, string[]>();
  let visits = 0;
  /** The longest line up to `id`, and whether a cycle cut it (then it depends on the path taken: not remembered). */
  const longestUp = (id: string, path: ReadonlySet<string>): { chain: string[]; cut: boolean } => {
    const known = memo.get(id);
    if (known) return { chain: known, cut: false };
    // Lines cut by cycles are not remembered, so a tangle of cycles could be walked again and again: bounded.
    if (++visits > MAX_VISITS) return { chain: [id], cut: true };
    let best: string[] = [];
    let cut = false;
    const onPath = new Set([...path, id]);
    for (const blocker of blockersOf.get(id) ?? []) {
      if (onPath.has(blocker)) {
        cut = true;
        continue;
      }
      const line = longestUp(blocker, onPath);
      cut ||= line.cut;
      if (line.chain.length > best.length || (line.chain.length === best.length && line.chain.join() < best.join())) best = line.chain;
    }
    const chain = [...best, id];
    if (!cut) memo.set(id, chain);
    return { chain, cut };
  };
  const blocking = new Set([...blockersOf.values()].flat());
  const ends = [...blockersOf.keys()].filter((id) => items.has(id) && !blocking.has(id));
  // Only cycles: every blocked item blocks another; start anywhere.
  const starts = ends.length > 0 ? ends : [...blockersOf.keys()].filter((id) => items.has(id));
  return starts
    .map((id) => longestUp(id, new Set()).chain)
    .filter((chain) => chain.length >= 2)
    .sort((a, b) => b.length - a.length || a.join().localeCompare(b.join()))
    .slice(0, limit)
    .map((chain) => ({ items: chain.map((id) => chainItemOf(items.get(id)!)) }));
};
