import { type BlockingEdge, blockingEdgesOf, edgeKey } from '../core/graph.ts';
import { itemIdForRef } from '../core/ids.ts';
import type { WorkItem } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { loadItemWithIncoming } from './items.ts';

export type GraphDirection = 'up' | 'down' | 'both';

export interface ExploreOptions {
  depth: number;
  direction: GraphDirection;
  /** stop adding nodes after this many (the request's budget) */
  maxNodes: number;
}

export interface ExploredGraph {
  /** every node reached, by id, with its depth from the root; `item` absent for a ref not indexed yet */
  nodes: Map<string, { id: string; ref: string; depth: number; item: WorkItem | undefined }>;
  edges: BlockingEdge[];
  /** what the walk cost: item partitions queried and edge rows read */
  visited: { items: number; edges: number };
  /** true when the node budget cut the walk short */
  truncated: boolean;
}

/**
 * Walks the blocking edges from a root, breadth first, one strongly consistent partition query
 * per node (the item and its reverse edges come together), level by level in parallel. Bounded by
 * `depth` and `maxNodes`, so a request costs at most `maxNodes` queries whatever the graph's size.
 * A reverse edge counts only while the item holding it still holds the link.
 */
export const exploreGraph = async (db: Db, tenantId: string, rootRef: string, options: ExploreOptions): Promise<ExploredGraph> => {
  const rootId = itemIdForRef(rootRef);
  const nodes: ExploredGraph['nodes'] = new Map([[rootId, { id: rootId, ref: rootRef, depth: 0, item: undefined }]]);
  const candidates = new Map<string, { edge: BlockingEdge; heldBy: string; via: string }>();
  const visited = { items: 0, edges: 0 };
  let truncated = false;
  let frontier = [rootId];
  for (let depth = 0; frontier.length > 0; depth++) {
    const loaded = await Promise.all(frontier.map(async (id) => ({ id, ...(await loadItemWithIncoming(db, tenantId, id)) })));
    const next: string[] = [];
    for (const { id, item, incoming } of loaded) {
      visited.items++;
      visited.edges += incoming.length + (item?.links.length ?? 0);
      const node = nodes.get(id)!;
      if (item) node.item = item;
      const ref = item?.ref ?? node.ref;
      const own = item ? blockingEdgesOf(item) : [];
      // Reverse edges read from this side; confirmed against their holder once it is loaded.
      const theirs = blockingEdgesOf(
        { id, links: [] },
        incoming.map(({ from, link }) => ({ ...link, type: link.type === 'blocks' ? 'blocked_by' : link.type === 'blocked_by' ? 'blocks' : link.type, target: from })),
      );
      for (const edge of own) candidates.set(`${edgeKey(edge)}#own`, { edge, heldBy: id, via: ref });
      for (const edge of theirs) {
        const holder = edge.from === id ? edge.to : edge.from;
        candidates.set(`${edgeKey(edge)}#in#${holder}`, { edge, heldBy: holder, via: ref });
      }
      if (depth >= options.depth) continue;
      const refsOf = new Map<string, string>();
      for (const link of item?.links ?? []) refsOf.set(itemIdForRef(link.target), link.target);
      for (const { fromId, from } of incoming) refsOf.set(fromId, from);
      for (const edge of [...own, ...theirs]) {
        const other = edge.from === id ? edge.to : edge.from;
        const wanted = options.direction === 'both' || (options.direction === 'up' ? edge.to === id : edge.from === id);
        if (!wanted || nodes.has(other)) continue;
        if (nodes.size >= options.maxNodes) {
          truncated = true;
          continue;
        }
        nodes.set(other, { id: other, ref: refsOf.get(other) ?? other, depth: depth + 1, item: undefined });
        next.push(other);
      }
    }
    frontier = next;
  }
  const byKey = new Map<string, BlockingEdge>();
  for (const [key, { edge, heldBy }] of candidates) {
    if (!nodes.has(edge.from) || !nodes.has(edge.to)) continue;
    if (!key.endsWith('#own')) {
      // Every node is loaded by now: a reverse edge counts only if its holder still holds the link.
      const holder = nodes.get(heldBy)?.item;
      if (!holder || !blockingEdgesOf(holder).some((e) => e.from === edge.from && e.to === edge.to)) continue;
    }
    const seen = byKey.get(edgeKey(edge));
    if (!seen || edge.confidence > seen.confidence) byKey.set(edgeKey(edge), edge);
  }
  return { nodes, edges: [...byKey.values()].sort((a, b) => edgeKey(a).localeCompare(edgeKey(b))), visited, truncated };
};
