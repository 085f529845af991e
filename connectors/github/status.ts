import type { Status } from '../../core/work-item.ts';

/** `In-Progress`, `status: in progress` and `in_progress` are one label to a human, so to us too. */
const labelWord = (label: string): string =>
  label
    .trim()
    .toLowerCase()
    .replace(/^status\s*[:/]\s*/, '')
    .replace(/[\s_-]+/g, ' ');

const IN_PROGRESS_LABELS: ReadonlySet<string> = new Set(['in progress', 'wip', 'doing', 'work in progress']);
const BLOCKED_LABELS: ReadonlySet<string> = new Set(['blocked']);

const hasLabelIn = (labels: readonly string[], words: ReadonlySet<string>): boolean =>
  labels.some((label) => words.has(labelWord(label)));

/** What decides the status of a GitHub issue. */
export interface IssueStatusFacts {
  state: string;
  stateReason?: string | null;
  labels: readonly string[];
  assigned: boolean;
}

/** What decides the status of a GitHub pull request. */
export interface PullRequestStatusFacts {
  state: string;
  draft: boolean;
  merged: boolean;
  labels: readonly string[];
}

/**
 * The status of an issue. GitHub only knows open and closed, so labels and assignees refine it:
 * `blocked` → blocked; assigned or labelled `in progress`/`wip`/`doing` → in_progress; else todo.
 * Closed as `not_planned` or `duplicate` → cancelled; any other close (`completed`, null) → done.
 */
export function mapIssueStatus(facts: IssueStatusFacts): Status {
  if (facts.state === 'closed') {
    const cancelled = facts.stateReason === 'not_planned' || facts.stateReason === 'duplicate';
    return { name: 'closed', category: cancelled ? 'cancelled' : 'done' };
  }
  if (hasLabelIn(facts.labels, BLOCKED_LABELS)) return { name: 'open', category: 'blocked' };
  if (facts.assigned || hasLabelIn(facts.labels, IN_PROGRESS_LABELS)) return { name: 'open', category: 'in_progress' };
  return { name: 'open', category: 'todo' };
}

/**
 * The status of a pull request: merged → done, closed unmerged → cancelled, `blocked` label →
 * blocked, draft (or a `wip` label, the convention that predates drafts) → in_progress, otherwise
 * in_review. The name is GitHub's own word: open, draft, closed or merged.
 */
export function mapPullRequestStatus(facts: PullRequestStatusFacts): Status {
  if (facts.merged) return { name: 'merged', category: 'done' };
  if (facts.state === 'closed') return { name: 'closed', category: 'cancelled' };
  const name = facts.draft ? 'draft' : 'open';
  if (hasLabelIn(facts.labels, BLOCKED_LABELS)) return { name, category: 'blocked' };
  if (facts.draft || hasLabelIn(facts.labels, IN_PROGRESS_LABELS)) return { name, category: 'in_progress' };
  return { name, category: 'in_review' };
}
