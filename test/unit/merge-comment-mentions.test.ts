import { describe, expect, it } from 'vitest';
import { ItemChange } from '../../core/changes.ts';
import { applyChange } from '../../core/merge.ts';
import { type CommentOrigin, type Link, type OrderedBy, WorkItem } from '../../core/work-item.ts';
import { applyAll, at, indexedItem, link, seededRandom, shuffled, upsert, withoutVersion } from '../fixtures/work-items.ts';

/*
 * A comment states its links whole (a `complete` link change under the comment's own origin): what
 * it names when written or edited, nothing once deleted. The item holds exactly what the latest
 * statement of each comment says, beside its own links, whatever order the deliveries arrive in.
 */

const ISSUE = 'github:octo/api#1';
const A = 'jira:acme.atlassian.net/ACME-42';
const B = 'github:octo/web#3';
const FIRST: CommentOrigin = 'comment:github:100';
const SECOND: CommentOrigin = 'comment:github:200';

const mention = (target: string, origin: Link['origin'], confidence = 0.8): Link => link('mentions', target, origin, confidence);

/** Comment `origin` names `targets` since minute `n`. */
const stated = (n: number, origin: CommentOrigin, targets: string[], orderedBy?: OrderedBy): ItemChange =>
  ItemChange.parse({
    op: 'link',
    ref: ISSUE,
    at: at(n),
    add: targets.map((target) => mention(target, origin)),
    remove: [],
    origin,
    complete: true,
    ...(orderedBy ? { orderedBy } : {}),
  });

/** The issue observed at minute `n`, its own body naming `targets`. */
const observed = (n: number, targets: string[] = []) => upsert({ updatedAt: at(n), links: targets.map((t) => mention(t, 'key_mention')) });

const mentionsOf = (item: WorkItem | undefined) => item?.links.map((l) => `${l.target} ${l.origin}`).sort();

describe('applyChange: what comments name', () => {
  it("adds a comment's mentions to its item under the comment's origin", () => {
    const item = applyAll([observed(0), stated(1, FIRST, [A, B])])!;
    expect(item.links).toEqual([mention(B, FIRST), mention(A, FIRST)].sort((x, y) => x.target.localeCompare(y.target)));
    expect(item.originLog).toEqual([{ origin: FIRST, at: at(1) }]);
    expect(WorkItem.parse(item)).toEqual(item);
  });

  it('removes what an edit no longer names, and everything once the comment is deleted', () => {
    const written = applyAll([observed(0), stated(1, FIRST, [A, B])])!;
    const edited = applyChange(written, stated(2, FIRST, [B]))!;
    expect(mentionsOf(edited)).toEqual([`${B} ${FIRST}`]);
    const deleted = applyChange(edited, stated(3, FIRST, []))!;
    expect(deleted.links).toEqual([]);
    expect(deleted.originLog).toEqual([{ origin: FIRST, at: at(3) }]);
  });

  it("leaves the item's own mentions and other comments' alone", () => {
    const item = applyAll([observed(0, [A]), stated(1, FIRST, [A]), stated(2, SECOND, [A, B])])!;
    expect(mentionsOf(applyChange(item, stated(3, FIRST, [])))).toEqual([`${A} ${SECOND}`, `${A} key_mention`, `${B} ${SECOND}`].sort());
    // An observation of the issue whose body no longer names A keeps what the comments name.
    expect(mentionsOf(applyChange(item, observed(4)))).toEqual([`${A} ${FIRST}`, `${A} ${SECOND}`, `${B} ${SECOND}`].sort());
  });

  it('keeps what comments name through newer observations of the item', () => {
    const item = applyAll([observed(0), stated(1, FIRST, [A]), observed(5), observed(6, [B])])!;
    expect(mentionsOf(item)).toEqual([`${A} ${FIRST}`, `${B} key_mention`].sort());
    expect(item.originLog).toEqual([{ origin: FIRST, at: at(1) }]);
  });

  it('ignores a statement older than the one the item holds', () => {
    const deleted = applyAll([observed(0), stated(3, FIRST, [])])!;
    expect(applyChange(deleted, stated(1, FIRST, [A]))).toBeUndefined();
    expect(applyChange(deleted, stated(2, FIRST, [B]))).toBeUndefined();
  });

  it('treats a repeated statement as a no-op', () => {
    const item = applyAll([observed(0), stated(1, FIRST, [A])])!;
    expect(applyChange(item, stated(1, FIRST, [A]))).toBeUndefined();
  });

  it('lets the statement naming less win a tie, so a deletion at the time of the last edit removes it', () => {
    const edit = stated(2, FIRST, [A]);
    const deletion = stated(2, FIRST, []);
    const base = applyAll([observed(0)])!;
    expect(applyAll([edit, deletion], base)!.links).toEqual([]);
    expect(applyAll([deletion, edit], base)!.links).toEqual([]);
  });

  it('never links the item to itself', () => {
    expect(applyAll([observed(0), stated(1, FIRST, [ISSUE, A])])!.links).toEqual([mention(A, FIRST)]);
  });

  it('orders statements by the one rule: an unzoned time never outranks a zoned one within 14 hours', () => {
    const unzoned: OrderedBy = { field: 'timestamp', zoned: false };
    const zoned: OrderedBy = { field: 'comment.updated', zoned: true };
    // The deletion reads 2 hours before the zoned edit, but has no zone: the edit could be older.
    const edit = stated(240, FIRST, [A], unzoned);
    const deletion = stated(120, FIRST, [], zoned);
    const base = applyAll([observed(0)])!;
    const editFirst = applyAll([edit, deletion], base)!;
    expect(editFirst.links).toEqual([]);
    expect(editFirst.originLog).toEqual([{ origin: FIRST, at: at(120) }]);
    expect(withoutVersion(applyAll([deletion, edit], base)!)).toEqual(withoutVersion(editFirst));
  });

  it('is not undone by a tool statement about the same link (a Jira issue link event)', () => {
    const item = applyAll([observed(0), stated(1, FIRST, [A])])!;
    const removal: ItemChange = { op: 'link', ref: ISSUE, at: at(2), add: [], remove: [{ type: 'mentions', target: A }] };
    expect(applyChange(item, removal)?.links ?? item.links).toEqual([mention(A, FIRST)]);
  });

  it('refuses a complete link change that is not about a comment', () => {
    const change = { op: 'link', ref: ISSUE, at: at(1), add: [], remove: [], complete: true };
    expect(ItemChange.safeParse(change).success).toBe(false);
    expect(ItemChange.safeParse({ ...change, origin: 'manual' }).success).toBe(false);
    expect(ItemChange.safeParse({ ...change, origin: FIRST }).success).toBe(true);
  });

  const history: ItemChange[] = [
    observed(1, [B]),
    stated(2, FIRST, [A]),
    stated(3, SECOND, [A, B]),
    observed(4),
    stated(5, FIRST, [A, B]),
    stated(6, SECOND, [B]),
    stated(7, FIRST, []),
    observed(8, [A]),
    stated(9, SECOND, [A]),
  ];

  it.each(Array.from({ length: 25 }, (_, seed) => [seed + 1]))(
    'ends comments written, edited and deleted in any order in the in-order state (seed %i)',
    (seed) => {
      const start = indexedItem({ updatedAt: at(0) });
      const inOrder = applyAll(history, start)!;
      expect(mentionsOf(inOrder)).toEqual([`${A} ${SECOND}`, `${A} key_mention`].sort());
      expect(withoutVersion(applyAll(shuffled(history, seededRandom(seed)), start)!)).toEqual(withoutVersion(inOrder));
    },
  );
});
