import type { Status, StatusCategory } from '../../core/work-item.ts';

/** What decides the status of a Jira issue. */
export interface JiraStatusFacts {
  name: string;
  /** `status.statusCategory.key`: `new`, `indeterminate`, `done` */
  categoryKey?: string | null;
  /** `resolution.name`, set when the issue was resolved */
  resolution?: string | null;
}

const CANCELLED = /\b(?:won'?t (?:do|fix)|cancell?ed|rejected|declined|duplicate|not a bug|cannot reproduce|abandoned|obsolete)\b/i;
const BLOCKED = /\b(?:blocked|on hold|impeded)\b/i;
const IN_REVIEW = /\b(?:review|qa|testing|verification|in test)\b/i;
const BACKLOG = /^backlog$/i;
/** Names that tell the category when Jira sends none (a status as a plain name, a few old statuses). */
const DONE_NAME = /^(?:done|closed|resolved|completed?)$/i;
const IN_PROGRESS_NAME = /\b(?:in progress|doing|started|in development)\b/i;

/** The value a rule table gives a name, compared without case or surrounding spaces. */
export const lookupByName = <T>(rules: Readonly<Record<string, T>>, name: string): T | undefined => {
  const wanted = name.trim().toLowerCase();
  for (const [rule, value] of Object.entries(rules)) if (rule.trim().toLowerCase() === wanted) return value;
  return undefined;
};

/**
 * The status of a Jira issue: the connection's rules by status name first; then the status
 * category (`new` → todo, `indeterminate` → in_progress, `done` → done) refined by the name
 * (`Backlog` → backlog, `Blocked`/`On Hold` → blocked, `In Review`/`QA` → in_review) and by the
 * resolution (`Won't Do`, `Duplicate`, `Cancelled`… → cancelled). Without a category (a status sent
 * as a plain name), the name alone: `Done`/`Closed`/`Resolved` → done, review names → in_review,
 * `In Progress` → in_progress, else todo. The name stays Jira's own.
 */
export function mapJiraStatus(facts: JiraStatusFacts, rules: Readonly<Record<string, StatusCategory>> = {}): Status {
  const category = lookupByName(rules, facts.name) ?? defaultCategory(facts);
  return { name: facts.name, category };
}

const defaultCategory = ({ name, categoryKey, resolution }: JiraStatusFacts): StatusCategory => {
  if (CANCELLED.test(name)) return 'cancelled';
  if (categoryKey === 'done' || (!categoryKey && resolution)) {
    return resolution && CANCELLED.test(resolution) ? 'cancelled' : 'done';
  }
  if (BLOCKED.test(name)) return 'blocked';
  if (categoryKey === 'indeterminate') return IN_REVIEW.test(name) ? 'in_review' : 'in_progress';
  if (!categoryKey) {
    if (DONE_NAME.test(name.trim())) return 'done';
    if (IN_REVIEW.test(name)) return 'in_review';
    if (IN_PROGRESS_NAME.test(name)) return 'in_progress';
  }
  return BACKLOG.test(name.trim()) ? 'backlog' : 'todo';
};

