import { itemIdForRef } from './ids.ts';
import type { IncomingLink } from './dependencies.ts';
import type { Link, WorkItem } from './work-item.ts';

/**
 * The dependency graph, as pure functions over values: blocking edges read from an item's own
 * links and the links other items hold to it, strongly connected components (cycles), and the
 * longest blocking chain (critical path). The store feeds it bounded neighbourhoods.
 */

/** One blocking dependency: `from` must finish before `to` can (from blocks to). */
export interface BlockingEdge {
  from: string;
  to: string;
  origin: Link['origin'];
  confidence: number;
}

export const edgeKey = (e: Pick<BlockingEdge, 'from' | 'to'>): string => `${e.from}>${e.to}`;

/**
 * The blocking edges an item takes part in, from its own links and the confirmed links others hold
 * to it (already read from its side, see `confirmedIncoming`). One edge per (from, to), the most
 * confident one: both items often hold the same dependency.
 */
export const blockingEdgesOf = (item: Pick<WorkItem, 'id' | 'links'>, incoming: readonly IncomingLink[] = []): BlockingEdge[] => {
  const byKey = new Map<string, BlockingEdge>();
  for (const link of [...item.links, ...incoming]) {
    const other = itemIdForRef(link.target);
    if (other === item.id) continue;
    const edge =
      link.type === 'blocked_by'
        ? { from: other, to: item.id }
        : link.type === 'blocks'
          ? { from: item.id, to: other }
          : undefined;
    if (!edge) continue;
    const seen = byKey.get(edgeKey(edge));
    if (!seen || link.confidence > seen.confidence) byKey.set(edgeKey(edge), { ...edge, origin: link.origin, confidence: link.confidence });
  }
  return [...byKey.values()].sort((a, b) => edgeKey(a).localeCompare(edgeKey(b)));
};

/**
 * Strongly connected components with more than one node (or a self-loop): every dependency cycle
 * lies inside one. Tarjan's algorithm, iterative so a long chain cannot overflow the stack.
 * Each component is returned with its ids sorted, components sorted by their first id.
 */
export const findCycles = (nodes: readonly string[], edges: readonly Pick<BlockingEdge, 'from' | 'to'>[]): string[][] => {
  const out = new Map<string, string[]>();
  for (const e of edges) {
    if (!out.has(e.from)) out.set(e.from, []);
    out.get(e.from)!.push(e.to);
  }
  const all = [...new Set([...nodes, ...edges.flatMap((e) => [e.from, e.to])])].sort();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of all) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work.at(-1)!;
      const successors = out.get(frame.node) ?? [];
      if (frame.next < successors.length) {
        const succ = successors[frame.next++]!;
        if (!index.has(succ)) {
          index.set(succ, counter);
          low.set(succ, counter++);
          stack.push(succ);
          onStack.add(succ);
          work.push({ node: succ, next: 0 });
        } else if (onStack.has(succ)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(succ)!));
        }
        continue;
      }
      work.pop();
      const parent = work.at(-1);
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && (out.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfLoop) components.push(component.sort());
      }
    }
  }
  return components.sort((a, b) => a[0]!.localeCompare(b[0]!));
};

/**
 * The longest chain of blocking edges between open items (the critical path), from the first
 * blocker to the last dependent. Edges inside a cycle are left out (a cycle has no longest path);
 * ties go to the lexicographically smallest chain, so the answer is deterministic.
 */
export const criticalPath = (
  nodes: readonly string[],
  edges: readonly Pick<BlockingEdge, 'from' | 'to'>[],
  isOpen: (id: string) => boolean = () => true,
): string[] => {
  const inCycle = new Map<string, number>();
  findCycles(nodes, edges).forEach((component, i) => component.forEach((id) => inCycle.set(id, i)));
  const usable = edges.filter(
    (e) => isOpen(e.from) && isOpen(e.to) && e.from !== e.to && !(inCycle.has(e.from) && inCycle.get(e.from) === inCycle.get(e.to)),
  );
  const succ = new Map<string, string[]>();
  const indegree = new Map<string, number>();
  const ids = [...new Set([...nodes.filter(isOpen), ...usable.flatMap((e) => [e.from, e.to])])].sort();
  for (const id of ids) indegree.set(id, 0);
  for (const e of usable) {
    if (!succ.has(e.from)) succ.set(e.from, []);
    succ.get(e.from)!.push(e.to);
    indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
  }
  // Kahn's topological order, then the longest chain ending at each node.
  const order: string[] = [];
  const ready = ids.filter((id) => indegree.get(id) === 0);
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const next of (succ.get(id) ?? []).sort()) {
      indegree.set(next, indegree.get(next)! - 1);
      if (indegree.get(next) === 0) ready.push(next);
    }
  }
  const best = new Map<string, string[]>(order.map((id) => [id, [id]]));
  for (const id of order) {
    const chain = best.get(id)!;
    for (const next of succ.get(id) ?? []) {
      const current = best.get(next)!;
      const candidate = [...chain, next];
      if (candidate.length > current.length || (candidate.length === current.length && candidate.join() < current.join())) {
        best.set(next, candidate);
      }
    }
  }
  let longest: string[] = [];
  for (const chain of best.values()) {
    if (chain.length > longest.length || (chain.length === longest.length && chain.join() < longest.join())) longest = chain;
  }
  return longest.length > 1 ? longest : [];
};
