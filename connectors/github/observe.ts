import { extractReferences, githubRef } from '../../core/references.ts';
import type { Container, Kind, LinkOrigin, ObservedItem } from '../../core/work-item.ts';
import type { GithubIssue, GithubPullRequest, GithubRepository } from './payload-schemas.ts';
import { ownersOf, personOfGithubUser } from './people.ts';
import { mapPriority } from './priority.ts';
import { mapIssueStatus, mapPullRequestStatus } from './status.ts';

/** An item as one delivery shows it, and the link origins that delivery is authoritative for. */
export interface Observation {
  item: ObservedItem;
  linkOrigins: LinkOrigin[];
}

/** What observing an item needs besides the item: where it lives and the tenant's Jira projects. */
export interface ObserveContext {
  repository: GithubRepository;
  jiraProjects: Readonly<Record<string, string>>;
  jiraSites?: readonly string[];
}

const TEXT_ORIGINS: readonly LinkOrigin[] = ['closing_keyword', 'key_mention'];
const TEXT_AND_BRANCH_ORIGINS: readonly LinkOrigin[] = [...TEXT_ORIGINS, 'branch_name'];

const containerOf = (repository: GithubRepository): Container => ({
  source: 'github',
  key: repository.full_name.toLowerCase(),
  name: repository.full_name,
});

/**
 * GitHub has no issue types we can rely on, but its default `bug` label is near universal: an
 * issue labelled exactly `incident` or `bug` gets that kind (incident wins), any other is an issue.
 */
const kindOfIssue = (labels: readonly string[]): Kind => {
  const names = new Set(labels.map((label) => label.trim().toLowerCase()));
  if (names.has('incident')) return 'incident';
  if (names.has('bug')) return 'bug';
  return 'issue';
};

type ItemFields = GithubIssue | GithubPullRequest;

/** The fields issues and pull requests share. */
const observeCommon = (
  item: ItemFields,
  context: ObserveContext,
  specific: Pick<ObservedItem, 'kind' | 'status'> & { closedAt: string | undefined; branch: string | undefined },
): ObservedItem => {
  const container = containerOf(context.repository);
  const ref = githubRef(context.repository.full_name, item.number);
  const labels = (item.labels ?? []).map((label) => label.name);
  const dueAt = item.milestone?.due_on;
  return {
    ref,
    source: 'github',
    kind: specific.kind,
    title: item.title,
    ...(item.html_url ? { url: item.html_url } : {}),
    container,
    status: specific.status,
    priority: mapPriority(labels),
    owners: ownersOf(item),
    ...(item.user ? { requester: personOfGithubUser(item.user) } : {}),
    labels,
    ...(dueAt ? { dueAt } : {}),
    createdAt: item.created_at,
    updatedAt: item.updated_at,
    ...(specific.closedAt ? { closedAt: specific.closedAt } : {}),
    links: extractReferences({
      title: item.title,
      body: item.body,
      branch: specific.branch,
      container,
      jiraProjects: context.jiraProjects,
      ...(context.jiraSites ? { jiraSites: context.jiraSites } : {}),
      self: ref,
    }),
  };
};

/** A pull request as `pull_request` and `pull_request_review` deliveries show it. */
export function observePullRequest(pullRequest: GithubPullRequest, context: ObserveContext): Observation {
  const merged = pullRequest.merged ?? pullRequest.merged_at !== undefined;
  const labels = (pullRequest.labels ?? []).map((label) => label.name);
  const item = observeCommon(pullRequest, context, {
    kind: 'pull_request',
    status: mapPullRequestStatus({ state: pullRequest.state, draft: pullRequest.draft ?? false, merged, labels }),
    closedAt: pullRequest.closed_at ?? (merged ? pullRequest.merged_at : undefined),
    branch: pullRequest.head?.ref,
  });
  return { item, linkOrigins: [...TEXT_AND_BRANCH_ORIGINS] };
}

/**
 * An issue as `issues` and `issue_comment` deliveries show it. Every pull request is also an issue
 * on GitHub: such an "issue" is observed as the pull request (same ref), with what the issue shape
 * carries. It has no branch, so the observation is not authoritative for branch-name links.
 */
export function observeIssue(issue: GithubIssue, context: ObserveContext): Observation {
  const labels = (issue.labels ?? []).map((label) => label.name);
  if (issue.pull_request) {
    const mergedAt = issue.pull_request.merged_at;
    const merged = mergedAt !== undefined;
    const item = observeCommon(issue, context, {
      kind: 'pull_request',
      // An issue-shaped pull request may omit `draft` (GHES): it then reads as ready for review.
      status: mapPullRequestStatus({ state: issue.state, draft: issue.draft ?? false, merged, labels }),
      closedAt: issue.closed_at ?? mergedAt,
      branch: undefined,
    });
    return { item, linkOrigins: [...TEXT_ORIGINS] };
  }
  const item = observeCommon(issue, context, {
    kind: kindOfIssue(labels),
    status: mapIssueStatus({
      state: issue.state,
      stateReason: issue.state_reason,
      labels,
      assigned: ownersOf(issue).length > 0,
    }),
    closedAt: issue.closed_at,
    branch: undefined,
  });
  return { item, linkOrigins: [...TEXT_AND_BRANCH_ORIGINS] };
}
