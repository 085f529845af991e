import type { Branch, Commit, Development } from './work-item.ts';

/**
 * The development of an item (commits and branches that name it), merged purely: whatever order
 * pushes and branch reports arrive in, and however often, the item ends in the same state.
 *
 * - A commit is one per (repository, sha): a commit pushed again (to another branch, in a merge,
 *   redelivered) only adds the branches it was seen on.
 * - A branch is one per (repository, name), and holds the latest report about it: a newer report
 *   replaces an older one, an older one changes nothing; on a tie a deletion wins (a branch is
 *   created before it is deleted, and GitHub times both to the second).
 * - An item keeps its {@link MAX_COMMITS} most recent commits and {@link MAX_BRANCHES} most recently
 *   reported branches: a busy item stays far below DynamoDB's 400 KB item size, and a long-lived
 *   story shows what happened lately, as Jira's development panel does.
 */

export const MAX_COMMITS = 50;
export const MAX_BRANCHES = 50;
/** A commit's first line is cut here (in characters, never inside one): it is a title, not a body. */
export const MAX_COMMIT_MESSAGE = 200;

const compareTimes = (a: string, b: string): number => Date.parse(a) - Date.parse(b);

export const commitKey = (commit: Pick<Commit, 'repository' | 'sha'>): string => `${commit.repository.toLowerCase()} ${commit.sha.toLowerCase()}`;

export const branchKey = (branch: Pick<Branch, 'repository' | 'name'>): string => `${branch.repository.toLowerCase()} ${branch.name}`;

/** The first line of a commit message, cut to {@link MAX_COMMIT_MESSAGE} characters. */
export const firstLineOf = (message: string): string => {
  const line = message.split(/\r\n|\r|\n/, 1)[0]!.trim();
  const characters = Array.from(line);
  return characters.length <= MAX_COMMIT_MESSAGE ? line : `${characters.slice(0, MAX_COMMIT_MESSAGE - 1).join('')}…`;
};

const newestFirst =
  <T extends { at: string }>(key: (value: T) => string) =>
  (a: T, b: T): number =>
    compareTimes(b.at, a.at) || key(a).localeCompare(key(b));

/** Commits once each (branches united), newest first, at most {@link MAX_COMMITS}. */
export const recentCommits = (commits: readonly Commit[]): Commit[] => {
  const byKey = new Map<string, Commit>();
  for (const commit of commits) {
    const seen = byKey.get(commitKey(commit));
    const branches = [...new Set([...(seen?.branches ?? []), ...commit.branches])].sort();
    byKey.set(commitKey(commit), { ...(seen ?? commit), branches });
  }
  return [...byKey.values()].sort(newestFirst<Commit>(commitKey)).slice(0, MAX_COMMITS);
};

/** Whether report `a` about a branch replaces report `b`. */
const supersedes = (a: Branch, b: Branch | undefined): boolean => {
  if (!b) return true;
  const byTime = compareTimes(a.at, b.at);
  if (byTime !== 0) return byTime > 0;
  return a.deleted === true && b.deleted !== true;
};

/** The latest report per branch, most recent first, at most {@link MAX_BRANCHES}. */
export const latestBranches = (branches: readonly Branch[]): Branch[] => {
  const byKey = new Map<string, Branch>();
  for (const branch of branches) {
    if (supersedes(branch, byKey.get(branchKey(branch)))) byKey.set(branchKey(branch), branch);
  }
  return [...byKey.values()].sort(newestFirst<Branch>(branchKey)).slice(0, MAX_BRANCHES);
};

/** The development after some commits and branch reports: pure, idempotent, order-independent. */
export const mergeDevelopment = (
  current: Development | undefined,
  reported: { commits: readonly Commit[]; branches: readonly Branch[] },
): Development => ({
  commits: recentCommits([...(current?.commits ?? []), ...reported.commits]),
  branches: latestBranches([...(current?.branches ?? []), ...reported.branches]),
});

/** What changed between two states of an item's development: for `work.item.development_changed`. */
export interface DevelopmentDiff {
  commitsAdded: Commit[];
  branchesAdded: Branch[];
  branchesRemoved: Branch[];
}

/** Commits that appeared, and branches that appeared or were deleted; a branch pushed to again is neither. */
export const diffDevelopment = (before: Development | undefined, after: Development | undefined): DevelopmentDiff => {
  const commitsBefore = new Set((before?.commits ?? []).map(commitKey));
  const branchesBefore = new Map((before?.branches ?? []).map((b) => [branchKey(b), b]));
  const live = (branch: Branch | undefined): boolean => branch !== undefined && branch.deleted !== true;
  const branches = after?.branches ?? [];
  return {
    commitsAdded: (after?.commits ?? []).filter((c) => !commitsBefore.has(commitKey(c))),
    branchesAdded: branches.filter((b) => live(b) && !live(branchesBefore.get(branchKey(b)))),
    branchesRemoved: branches.filter((b) => b.deleted === true && live(branchesBefore.get(branchKey(b)))),
  };
};
