import { describe, expect, it } from 'vitest';
import { DevelopmentChange, type ItemChange } from '../../core/changes.ts';
import { MAX_BRANCHES, MAX_COMMITS } from '../../core/development.ts';
import { applyChange } from '../../core/merge.ts';
import { type Branch, type Commit, WorkItem } from '../../core/work-item.ts';
import { applyAll, at, indexedItem, normalizeGithub, seededRandom, shuffled, upsert, withoutVersion } from '../fixtures/work-items.ts';
import { githubExamples } from '../fixtures/github-examples.ts';

const REF = 'github:octo/api#1';

const commit = (n: number, overrides: Partial<Commit> = {}): Commit => ({
  sha: n.toString(16).padStart(40, '0'),
  repository: 'octo/api',
  message: `Fix the login retries, part ${n} (#1)`,
  author: { name: 'Mona Lisa', login: 'monalisa' },
  at: at(n),
  url: `https://github.com/octo/api/commit/${n.toString(16).padStart(40, '0')}`,
  branches: ['main'],
  ...overrides,
});

const branch = (name: string, minute: number, deleted = false): Branch => ({
  repository: 'octo/api',
  name,
  ...(deleted ? {} : { url: `https://github.com/octo/api/tree/${name}` }),
  at: at(minute),
  ...(deleted ? { deleted: true } : {}),
});

const development = (minute: number, parts: { commits?: Commit[]; branches?: Branch[] }, ref = REF): DevelopmentChange =>
  DevelopmentChange.parse({ op: 'development', ref, at: at(minute), ...parts });

/** Applies a change that must change something. */
const applied = (current: WorkItem | undefined, change: ItemChange): WorkItem => {
  const next = applyChange(current, change);
  if (!next) throw new Error(`expected ${change.op} to change the item`);
  return next;
};

describe('applyChange: development (commits and branches naming an item)', () => {
  it('adds a pushed commit to the item it names, and moves its activity to the push', () => {
    const item = indexedItem({ updatedAt: at(0) });
    const next = applied(item, development(5, { commits: [commit(4)] }));
    expect(next.development).toEqual({ commits: [commit(4)], branches: [] });
    expect(next.activityAt).toBe(at(5));
    expect(next.version).toBe(item.version + 1);
    expect(WorkItem.parse(next)).toEqual(next);
  });

  it('amends only an item the index holds: one not indexed yet waits in the pipeline', () => {
    expect(applyChange(undefined, development(5, { commits: [commit(4)] }))).toBeUndefined();
  });

  it('changes nothing on a duplicate delivery', () => {
    const change = development(5, { commits: [commit(4)], branches: [branch('ACME-1-login', 5)] });
    const once = applied(indexedItem(), change);
    expect(applyChange(once, structuredClone(change))).toBeUndefined();
  });

  it('keeps a commit once, uniting the branches it was pushed to', () => {
    const onFeature = commit(4, { branches: ['feature/login'] });
    const once = applied(indexedItem(), development(5, { commits: [onFeature] }));
    const merged = applied(once, development(9, { commits: [commit(4, { branches: ['main'] })] }));
    expect(merged.development!.commits).toEqual([{ ...onFeature, branches: ['feature/login', 'main'] }]);
    expect(applyChange(merged, development(9, { commits: [commit(4, { branches: ['main'] })] }))).toBeUndefined();
  });

  it('tells commits of the same sha in two repositories apart', () => {
    const next = applied(indexedItem(), development(5, { commits: [commit(4), commit(4, { repository: 'octo/api-fork' })] }));
    expect(next.development!.commits.map((c) => c.repository).sort()).toEqual(['octo/api', 'octo/api-fork']);
  });

  it(`keeps the ${MAX_COMMITS} most recent commits, newest first, whatever order they come in`, () => {
    const commits = Array.from({ length: MAX_COMMITS + 20 }, (_, i) => commit(i + 1));
    const changes = shuffled(commits, seededRandom(7)).map((c) => development(100, { commits: [c] }));
    const item = applyAll(changes, indexedItem())!;
    expect(item.development!.commits).toHaveLength(MAX_COMMITS);
    expect(item.development!.commits[0]).toEqual(commit(MAX_COMMITS + 20));
    expect(item.development!.commits.at(-1)).toEqual(commit(21));
    // An older commit than every kept one changes nothing.
    expect(applyChange(item, development(100, { commits: [commit(1)] }))).toBeUndefined();
  });

  it('records a branch named after the item, and its deletion', () => {
    const created = applied(indexedItem(), development(5, { branches: [branch('ACME-1-login', 5)] }));
    expect(created.development!.branches).toEqual([branch('ACME-1-login', 5)]);
    const deleted = applied(created, development(9, { branches: [branch('ACME-1-login', 9, true)] }));
    expect(deleted.development!.branches).toEqual([branch('ACME-1-login', 9, true)]);
  });

  it('does not let a late, older report bring a deleted branch back, nor a late deletion remove a newer push', () => {
    const deleted = applied(indexedItem(), development(9, { branches: [branch('ACME-1-login', 9, true)] }));
    expect(applyChange(deleted, development(5, { branches: [branch('ACME-1-login', 5)] }))).toBeUndefined();
    const pushed = applied(indexedItem(), development(12, { branches: [branch('ACME-1-login', 12)] }));
    expect(applyChange(pushed, development(9, { branches: [branch('ACME-1-login', 9, true)] }))).toBeUndefined();
    // Re-created after its deletion: the newer report wins.
    const recreated = applied(deleted, development(15, { branches: [branch('ACME-1-login', 15)] }));
    expect(recreated.development!.branches).toEqual([branch('ACME-1-login', 15)]);
  });

  it('lets a deletion win a tie with a report of the same second, in either order', () => {
    const present = development(9, { branches: [branch('ACME-1-login', 9)] });
    const deletion = development(9, { branches: [branch('ACME-1-login', 9, true)] });
    expect(applyAll([present, deletion], indexedItem())!.development!.branches).toEqual([branch('ACME-1-login', 9, true)]);
    expect(applyAll([deletion, present], indexedItem())!.development!.branches).toEqual([branch('ACME-1-login', 9, true)]);
  });

  it(`keeps the ${MAX_BRANCHES} most recently reported branches`, () => {
    const reports = Array.from({ length: MAX_BRANCHES + 5 }, (_, i) => branch(`ACME-1-try-${i}`, i + 1));
    const item = applied(indexedItem(), development(100, { branches: reports }));
    expect(item.development!.branches).toHaveLength(MAX_BRANCHES);
    expect(item.development!.branches[0]!.name).toBe(`ACME-1-try-${MAX_BRANCHES + 4}`);
  });

  it('ends in the same state whatever order pushes, branch reports and observations arrive in (seeded)', () => {
    const history: ItemChange[] = [
      development(2, { branches: [branch('ACME-1-login', 2)] }),
      development(3, { commits: [commit(3, { branches: ['ACME-1-login'] })], branches: [branch('ACME-1-login', 3)] }),
      development(4, { commits: [commit(4, { branches: ['ACME-1-login'] }), commit(1, { branches: ['ACME-1-login'] })] }),
      development(6, { commits: [commit(3, { branches: ['main'] }), commit(4, { branches: ['main'] })] }),
      development(7, { branches: [branch('ACME-1-login', 7, true)] }),
      development(8, { branches: [branch('ACME-1-retry', 8)] }),
      upsert({ title: 'Login retries', updatedAt: at(5) }),
      upsert({ title: 'Login retries, for good', updatedAt: at(9) }),
    ];
    const start = indexedItem({ updatedAt: at(0) });
    const expected = withoutVersion(applyAll(history, start)!);
    expect(expected.development!.commits.map((c) => c.branches)).toEqual([['ACME-1-login', 'main'], ['ACME-1-login', 'main'], ['ACME-1-login']]);
    expect(expected.development!.branches.map((b) => [b.name, b.deleted ?? false])).toEqual([
      ['ACME-1-retry', false],
      ['ACME-1-login', true],
    ]);
    const random = seededRandom(42);
    for (let run = 0; run < 50; run += 1) {
      const order = shuffled(history, random);
      // A duplicate of any change, anywhere, changes nothing either.
      const withDuplicate = [...order, order[Math.floor(random() * order.length)]!];
      expect(withoutVersion(applyAll(withDuplicate, start)!)).toEqual(expected);
    }
  });

  it('keeps the commits and branches when the item is observed again, stale or not', () => {
    const withCommits = applied(indexedItem({ updatedAt: at(1) }), development(5, { commits: [commit(4)], branches: [branch('ACME-1-login', 5)] }));
    const observed = applied(withCommits, upsert({ title: 'Renamed', updatedAt: at(10) }));
    expect(observed.development).toEqual(withCommits.development);
    const stale = applyChange(observed, upsert({ title: 'Old title', updatedAt: at(2) }, { activityAt: at(20) }));
    expect(stale?.development).toEqual(withCommits.development);
  });

  it('keeps them on a tombstone, and through a link change', () => {
    const withCommits = applied(indexedItem({ updatedAt: at(1) }), development(5, { commits: [commit(4)] }));
    const linked = applied(withCommits, { op: 'link', ref: REF, at: at(6), add: [{ type: 'blocks', target: 'github:octo/api#2', origin: 'source_link', confidence: 1 }], remove: [] });
    expect(linked.development).toEqual(withCommits.development);
    const deleted = applied(linked, { op: 'delete', ref: REF, at: at(7), reason: 'deleted' });
    expect(deleted.development).toEqual(withCommits.development);
  });

  it('merges what the GitHub connector makes of real pushes and branch events', () => {
    const push = githubExamples('push').find((e) => (e.payload as any).commits?.length > 0)!.payload as any;
    push.ref = 'refs/heads/feature/ACME-1-login';
    push.commits[0].message = 'ACME-1: retry the login';
    const create = githubExamples('create')[0]!.payload as any;
    Object.assign(create, { ref: 'feature/ACME-1-login', ref_type: 'branch' });
    const remove = githubExamples('delete')[0]!.payload as any;
    Object.assign(remove, { ref: 'feature/ACME-1-login', ref_type: 'branch' });
    const ACME = { ACME: 'acme.atlassian.net' };
    const changes = [...normalizeGithub('create', create, ACME), ...normalizeGithub('push', push, ACME), ...normalizeGithub('delete', remove, ACME)];
    const story = 'jira:acme.atlassian.net/ACME-1';
    expect(changes.every((c) => c.op === 'development' && c.ref === story)).toBe(true);
    const item = applyAll(changes, indexedItem({ ref: story, source: 'jira', kind: 'story', updatedAt: at(0) }))!;
    expect(item.development!.commits).toEqual([expect.objectContaining({ message: 'ACME-1: retry the login', branches: ['feature/ACME-1-login'] })]);
    expect(item.development!.branches).toEqual([expect.objectContaining({ name: 'feature/ACME-1-login', deleted: true })]);
  });
});
