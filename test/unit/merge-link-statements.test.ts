import { describe, expect, it } from 'vitest';
import type { ItemChange } from '../../core/changes.ts';
import { applyChange } from '../../core/merge.ts';
import { type Link, WorkItem } from '../../core/work-item.ts';
import { applyAll, at, indexedItem, link, seededRandom, shuffled, upsert, withoutVersion } from '../fixtures/work-items.ts';

const REF = 'jira:acme.atlassian.net/ACME-1';
const B = 'jira:acme.atlassian.net/ACME-2';
const C = 'jira:acme.atlassian.net/ACME-3';
const JIRA_ORIGINS = { linkOrigins: ['source_link', 'closing_keyword', 'key_mention'] as Link['origin'][] };

/** A Jira issue observation at minute `n`, showing `links`. */
const observed = (n: number, links: Link[] = []) => upsert({ ref: REF, source: 'jira', kind: 'task', updatedAt: at(n), links }, JIRA_ORIGINS);

const linkChange = (n: number, change: { add?: Link[]; remove?: Link[] }, reflectedInItem = true): ItemChange => ({
  op: 'link',
  ref: REF,
  at: at(n),
  add: change.add ?? [],
  remove: (change.remove ?? []).map(({ type, target }) => ({ type, target })),
  ...(reflectedInItem ? { reflectedInItem } : {}),
});

const blocksB = link('blocks', B);
const relatesC = link('relates', C);

describe('applyChange: link changes reflected in the item (Jira issue links)', () => {
  it('ignores a link change that is not newer than the observation the index holds', () => {
    const item = applyAll([observed(5)])!;
    expect(applyChange(item, linkChange(4, { add: [blocksB] }))).toBeUndefined();
    expect(applyChange(item, linkChange(5, { add: [blocksB] }))).toBeUndefined();
    expect(applyChange(item, linkChange(6, { add: [blocksB] }))?.links).toEqual([blocksB]);
  });

  it('lets a newer observation supersede a link change and forget it', () => {
    const item = applyAll([observed(1), linkChange(2, { add: [blocksB] }), observed(3)])!;
    expect(item.links).toEqual([]);
    expect(item.linkLog).toBeUndefined();
  });

  it('replays on an older observation a removal that happened after it', () => {
    const inOrder = applyAll([observed(1, [blocksB]), observed(2, [blocksB]), linkChange(3, { remove: [blocksB] })])!;
    const reordered = applyAll([observed(1, [blocksB]), linkChange(3, { remove: [blocksB] }), observed(2, [blocksB])])!;
    expect(inOrder.links).toEqual([]);
    expect(withoutVersion(reordered)).toEqual(withoutVersion(inOrder));
  });

  it('replays on an older observation an addition that happened after it', () => {
    const inOrder = applyAll([observed(1), observed(2), linkChange(3, { add: [blocksB] })])!;
    const reordered = applyAll([observed(1), linkChange(3, { add: [blocksB] }), observed(2)])!;
    expect(inOrder.links).toEqual([blocksB]);
    expect(withoutVersion(reordered)).toEqual(withoutVersion(inOrder));
  });

  it('keeps a link re-created after its deletion, whatever order the two events arrive in', () => {
    const base = applyAll([observed(1)])!;
    const created = linkChange(2, { add: [blocksB] });
    const deleted = linkChange(3, { remove: [blocksB] });
    const recreated = linkChange(4, { add: [blocksB] });
    const inOrder = applyAll([created, deleted, recreated], base)!;
    expect(inOrder.links).toEqual([blocksB]);
    for (const order of [[recreated, deleted, created], [deleted, recreated, created], [created, recreated, deleted]]) {
      expect(withoutVersion(applyAll(order, base)!)).toEqual(withoutVersion(inOrder));
    }
  });

  it('treats a duplicate link change as a no-op', () => {
    const item = applyAll([observed(1), linkChange(2, { add: [blocksB] })])!;
    expect(applyChange(item, linkChange(2, { add: [blocksB] }))).toBeUndefined();
    const removed = applyAll([linkChange(3, { remove: [blocksB] })], item)!;
    expect(applyChange(removed, linkChange(3, { remove: [blocksB] }))).toBeUndefined();
  });

  it('keeps a state that passes the schema, with the log sorted', () => {
    const item = applyAll([observed(1), linkChange(2, { add: [relatesC] }), linkChange(3, { remove: [blocksB] })])!;
    expect(WorkItem.parse(item)).toEqual(item);
    expect(item.linkLog?.map((s) => s.type)).toEqual(['blocks', 'relates']);
  });

  it.each(Array.from({ length: 25 }, (_, seed) => [seed + 1]))(
    'ends random histories of observations and link changes in the in-order state (seed %i)',
    (seed) => {
      const random = seededRandom(seed);
      const candidates = [blocksB, relatesC, link('blocked_by', C), link('duplicates', B)];
      const history: ItemChange[] = [];
      let truth = new Set<Link>();
      for (let n = 1; n <= 14; n++) {
        if (random() < 0.35) {
          history.push(observed(n, [...truth]));
        } else {
          const target = candidates[Math.floor(random() * candidates.length)]!;
          const adding = !truth.has(target);
          truth = new Set(adding ? [...truth, target] : [...truth].filter((l) => l !== target));
          history.push(linkChange(n, adding ? { add: [target] } : { remove: [target] }));
        }
      }
      const start = applyAll([observed(0)])!;
      const inOrder = applyAll(history, start)!;
      expect([...inOrder.links].sort((a, b) => a.type.localeCompare(b.type))).toEqual(
        [...truth].sort((a, b) => a.type.localeCompare(b.type)).sort((a, b) => `${a.type} ${a.target}`.localeCompare(`${b.type} ${b.target}`)),
      );
      for (let round = 0; round < 5; round++) {
        expect(withoutVersion(applyAll(shuffled(history, random), start)!)).toEqual(withoutVersion(inOrder));
      }
    },
  );
});

describe('applyChange: retarget', () => {
  const provisional = 'jira:ACME-2';

  it('re-points links to a provisional ref at the ref it resolved to, keeping type, origin and confidence', () => {
    const pr = indexedItem({ links: [link('implements', provisional, 'key_mention', 0.5)] });
    const next = applyChange(pr, { op: 'retarget', ref: pr.ref, from: provisional, to: B });
    expect(next?.links).toEqual([link('implements', B, 'key_mention', 0.5)]);
    expect(next?.version).toBe(pr.version + 1);
  });

  it('merges a re-pointed link with an existing one to the same target', () => {
    const pr = indexedItem({ links: [link('implements', provisional, 'key_mention', 0.5), link('implements', B, 'key_mention', 0.9)] });
    expect(applyChange(pr, { op: 'retarget', ref: pr.ref, from: provisional, to: B })?.links).toEqual([link('implements', B, 'key_mention', 0.9)]);
  });

  it('changes nothing when no link names the provisional ref, and never links an item to itself', () => {
    const pr = indexedItem({ links: [link('implements', C, 'key_mention', 0.9)] });
    expect(applyChange(pr, { op: 'retarget', ref: pr.ref, from: provisional, to: B })).toBeUndefined();
    const self = indexedItem({ links: [link('relates', provisional, 'key_mention', 0.5)] });
    expect(applyChange(self, { op: 'retarget', ref: self.ref, from: provisional, to: self.ref })?.links).toEqual([]);
  });

  it('re-points the log of link statements too', () => {
    const item = applyAll([observed(1), linkChange(2, { remove: [link('blocks', 'jira:acme.atlassian.net/id/10002')] }, false)])!;
    const next = applyChange(item, { op: 'retarget', ref: REF, from: 'jira:acme.atlassian.net/id/10002', to: B });
    expect(next?.linkLog).toEqual([{ type: 'blocks', target: B, at: at(2) }]);
  });
});

describe('applyChange: a category the observation brings', () => {
  it('wins over the default rules', () => {
    expect(indexedItem({ kind: 'incident' }).category).toBe('operational');
    expect(indexedItem({ kind: 'incident', category: 'project' }).category).toBe('project');
  });
});
