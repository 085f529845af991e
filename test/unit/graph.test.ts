import { describe, expect, it } from 'vitest';
import { blockingEdgesOf, criticalPath, findCycles } from '../../core/graph.ts';
import { itemIdForRef } from '../../core/ids.ts';
import { indexedItem, link } from '../fixtures/work-items.ts';

const e = (from: string, to: string) => ({ from, to });

describe('blocking edges of an item', () => {
  it('reads blocked_by as an edge from the blocker and blocks as an edge to the dependent, ignoring other link types', () => {
    const pr = indexedItem({
      ref: 'github:octo/api#40',
      links: [link('blocked_by', 'jira:acme.atlassian.net/ACME-12'), link('blocks', 'github:octo/api#41'), link('mentions', 'github:octo/api#7')],
    });
    const edges = blockingEdgesOf(pr);
    expect(edges.map(({ from, to }) => ({ from, to }))).toEqual(
      expect.arrayContaining([e(itemIdForRef('jira:acme.atlassian.net/ACME-12'), pr.id), e(pr.id, itemIdForRef('github:octo/api#41'))]),
    );
    expect(edges).toHaveLength(2);
  });

  it('keeps one edge per pair when both items hold the dependency, the most confident', () => {
    const blocker = 'jira:acme.atlassian.net/ACME-12';
    const pr = indexedItem({ ref: 'github:octo/api#40', links: [link('blocked_by', blocker, 'key_mention', 0.6)] });
    const edges = blockingEdgesOf(pr, [{ ...link('blocked_by', blocker, 'source_link', 1) }]);
    expect(edges).toEqual([{ from: itemIdForRef(blocker), to: pr.id, origin: 'source_link', confidence: 1 }]);
  });
});

describe('cycle detection', () => {
  it('finds a cycle across three items as one component', () => {
    expect(findCycles(['a', 'b', 'c', 'd'], [e('a', 'b'), e('b', 'c'), e('c', 'a'), e('c', 'd')])).toEqual([['a', 'b', 'c']]);
  });

  it('reports separate cycles separately, and a self-loop', () => {
    expect(findCycles([], [e('a', 'b'), e('b', 'a'), e('x', 'y'), e('y', 'z'), e('z', 'x'), e('s', 's')])).toEqual([['a', 'b'], ['s'], ['x', 'y', 'z']]);
  });

  it('finds none in a chain or a diamond', () => {
    expect(findCycles([], [e('a', 'b'), e('b', 'c'), e('a', 'd'), e('d', 'c')])).toEqual([]);
  });

  it('handles a chain of 10 000 items without overflowing the stack', () => {
    const edges = Array.from({ length: 10_000 }, (_, i) => e(`n${i}`, `n${i + 1}`));
    expect(findCycles([], [...edges, e('n10000', 'n0')])[0]).toHaveLength(10_001);
  });
});

describe('critical path', () => {
  it('is the longest chain of blockers, first blocker first', () => {
    expect(criticalPath([], [e('a', 'b'), e('b', 'c'), e('c', 'd'), e('x', 'd'), e('a', 'x')])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('leaves out closed items and the edges inside a cycle', () => {
    const edges = [e('a', 'b'), e('b', 'c'), e('c', 'b'), e('c', 'd'), e('d', 'e'), e('e', 'f')];
    expect(criticalPath([], edges, (id) => id !== 'f')).toEqual(['c', 'd', 'e']);
  });

  it('is empty without any open blocking edge, and deterministic on ties', () => {
    expect(criticalPath(['a'], [])).toEqual([]);
    expect(criticalPath([], [e('b', 'c'), e('a', 'c')])).toEqual(['a', 'c']);
  });
});
