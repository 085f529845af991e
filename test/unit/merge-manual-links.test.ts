import { describe, expect, it } from 'vitest';
import type { ItemChange } from '../../core/changes.ts';
import { type Link, WorkItem } from '../../core/work-item.ts';
import { applyAll, at, link, seededRandom, shuffled, upsert } from '../fixtures/work-items.ts';

const REF = 'github:octo/api#40';
const ACME = 'jira:acme.atlassian.net/ACME-101';
const GITHUB_ORIGINS = { linkOrigins: ['closing_keyword', 'key_mention', 'branch_name'] as Link['origin'][] };

const manual = link('blocked_by', ACME, 'manual', 1);
const mentioned = link('blocked_by', ACME, 'key_mention', 0.9);
const jiraLink = link('blocked_by', ACME, 'source_link', 1);

/** A pull request observation at minute `n` that names ACME-101 in its body ("blocked by ACME-101"). */
const observed = (n: number, links: Link[] = [mentioned]) => upsert({ ref: REF, kind: 'pull_request', updatedAt: at(n), links }, GITHUB_ORIGINS);

/** What POST /v1/links and DELETE /v1/links/{id} apply: statements about the manual link only. */
const manualAdd = (n: number): ItemChange => ({ op: 'link', ref: REF, at: at(n), add: [manual], remove: [], origin: 'manual' });
const manualRemove = (n: number): ItemChange => ({ op: 'link', ref: REF, at: at(n), add: [], remove: [{ type: 'blocked_by', target: ACME }], origin: 'manual' });
/** A tool's link statements (Jira's issuelink_created / issuelink_deleted). */
const toolAdd = (n: number): ItemChange => ({ op: 'link', ref: REF, at: at(n), add: [jiraLink], remove: [] });
const toolRemove = (n: number): ItemChange => ({ op: 'link', ref: REF, at: at(n), add: [], remove: [{ type: 'blocked_by', target: ACME }] });

const origins = (item: WorkItem | undefined) => (item?.links ?? []).map((l) => l.origin).sort();

describe('applyChange: removing a manual link removes only that link', () => {
  it('keeps the extracted link to the same target when the manual link is removed', () => {
    const item = applyAll([observed(1), manualAdd(2), manualRemove(3)]);
    expect(item?.links).toEqual([mentioned]);
  });

  it('keeps a link a tool made to the same target when the manual link is removed', () => {
    const item = applyAll([observed(1, []), toolAdd(2), manualAdd(3), manualRemove(4)]);
    expect(item?.links).toEqual([jiraLink]);
  });

  it('keeps the extracted link when an older observation arrives after the removal (a replay or backfill)', () => {
    const item = applyAll([observed(5), manualAdd(6), manualRemove(7), observed(3)]);
    expect(origins(item)).toEqual(['key_mention']);
    const fresher = applyAll([observed(5), manualAdd(6), manualRemove(7), observed(9)]);
    expect(origins(fresher)).toEqual(['key_mention']);
  });

  it("keeps the manual link when a tool removes its own link to the same target", () => {
    const item = applyAll([observed(1, []), toolAdd(2), manualAdd(3), toolRemove(4)]);
    expect(item?.links).toEqual([manual]);
  });

  it('orders the manual statements apart from the tool statements: the same end state in any arrival order', () => {
    // The item exists first: a link change for an item not indexed yet waits in the pipeline, not here.
    const cases: [ItemChange[], string[]][] = [
      [[toolAdd(2), manualAdd(3), toolRemove(4)], ['manual']],
      [[toolAdd(2), manualAdd(3), manualRemove(4)], ['source_link']],
      [[manualAdd(2), toolAdd(3), manualRemove(4), toolRemove(5)], []],
    ];
    const random = seededRandom(7);
    for (const [changes, expected] of cases) {
      expect(origins(applyAll([observed(1, []), ...changes]))).toEqual(expected);
      for (let run = 0; run < 20; run++) {
        const item = applyAll([observed(1, []), ...shuffled(changes, random)]);
        expect(origins(item), `run ${run}`).toEqual(expected);
        expect(WorkItem.safeParse(item).success).toBe(true);
      }
    }
  });
});
