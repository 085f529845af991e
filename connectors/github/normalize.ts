import type { ItemChange, Normalized } from '../../core/changes.ts';
import type { NormalizeContext, StoredDelivery } from '../../core/connector.ts';
import { MalformedPayloadError } from '../../core/errors.ts';
import { commentMentions, githubCommentOrigin, githubRef } from '../../core/references.ts';
import type { CommentOrigin, Link } from '../../core/work-item.ts';
import { normalizeCreate, normalizeDelete, normalizePush } from './development.ts';
import { type ObserveContext, observeIssue, observePullRequest } from './observe.ts';
import { parsePayload } from './parse-payload.ts';
import {
  GithubIssue,
  GithubRepository,
  IssueCommentEvent,
  IssueRemovedEvent,
  IssuesEvent,
  PullRequestEvent,
  PullRequestReviewEvent,
} from './payload-schemas.ts';

type EventNormalizer = (payload: unknown, delivery: StoredDelivery, context: NormalizeContext) => Normalized;

/** Issue actions after which the issue in the payload is the state to index. */
const ISSUE_UPSERT_ACTIONS: ReadonlySet<string> = new Set([
  'opened',
  'edited',
  'closed',
  'reopened',
  'assigned',
  'unassigned',
  'labeled',
  'unlabeled',
  'milestoned',
  'demilestoned',
]);

const actionOf = (payload: unknown): string => {
  const action = (payload as { action?: unknown }).action;
  return typeof action === 'string' ? action : '(none)';
};

const contextFor = (repository: GithubRepository, context: NormalizeContext): ObserveContext => ({
  repository,
  jiraProjects: context.jiraProjects,
  ...(context.jiraSites ? { jiraSites: context.jiraSites } : {}),
});

const changes = (event: string, list: ItemChange[]): Normalized => ({ outcome: 'changes', event, changes: list });

const ignored = (event: string, reason: string): Normalized => ({ outcome: 'ignored', event, reason });

/** The latest of some payload timestamps (ISO strings in UTC compare as strings). */
const latest = (...timestamps: (string | undefined)[]): string | undefined =>
  timestamps.filter((timestamp): timestamp is string => timestamp !== undefined).sort().at(-1);

/** `https://api.github.com/repos/octo/api` → `octo/api` */
const repoOfApiUrl = (url: string | null | undefined): string | undefined => /\/repos\/([^/]+\/[^/]+)\/?$/.exec(url ?? '')?.[1];

/*
 * GitHub does not say when an issue was deleted or transferred. The change still needs a time
 * taken from the payload (normalize is replayed and must give the same answer): the latest
 * timestamp it carries, falling back to when the delivery was received.
 */
const normalizeIssueRemoval = (payload: unknown, delivery: StoredDelivery, context: NormalizeContext): Normalized => {
  const event = parsePayload(IssueRemovedEvent, payload, 'issues');
  const ref = githubRef(event.repository.full_name, event.issue.number);
  const newIssue = event.changes?.new_issue;
  const at =
    latest(event.issue.updated_at, event.repository.updated_at, newIssue?.created_at) ?? delivery.receivedAt;
  if (event.action === 'deleted') return changes('issues', [{ op: 'delete', ref, at, reason: 'deleted' }]);

  const newRepo = event.changes?.new_repository?.full_name ?? repoOfApiUrl(newIssue?.repository_url);
  if (!newIssue || !newRepo) {
    return changes('issues', [{ op: 'delete', ref, at, reason: 'transferred' }]);
  }
  const movedTo = githubRef(newRepo, newIssue.number);
  const result: ItemChange[] = [{ op: 'delete', ref, at, reason: 'transferred', movedTo }];
  // The new issue is in the payload in full: index it now rather than wait for its repository's hook.
  const fullIssue = GithubIssue.safeParse(newIssue);
  const newRepository = GithubRepository.safeParse(event.changes?.new_repository);
  if (fullIssue.success && newRepository.success) {
    const observation = observeIssue(fullIssue.data, contextFor(newRepository.data, context));
    result.push({ op: 'upsert', ...observation });
  }
  return changes('issues', result);
};

const normalizeIssues: EventNormalizer = (payload, delivery, context) => {
  const action = actionOf(payload);
  if (action === 'deleted' || action === 'transferred') return normalizeIssueRemoval(payload, delivery, context);
  if (!ISSUE_UPSERT_ACTIONS.has(action)) {
    return ignored('issues', `issues.${action} does not change anything Tributary indexes.`);
  }
  const event = parsePayload(IssuesEvent, payload, 'issues');
  const observation = observeIssue(event.issue, contextFor(event.repository, context));
  return changes('issues', [{ op: 'upsert', ...observation }]);
};

/** Every pull_request action carries the whole pull request, so each one is a fresh observation. */
const normalizePullRequest: EventNormalizer = (payload, _delivery, context) => {
  const event = parsePayload(PullRequestEvent, payload, 'pull_request');
  const observation = observePullRequest(event.pull_request, contextFor(event.repository, context));
  return changes('pull_request', [{ op: 'upsert', ...observation }]);
};

const normalizePullRequestReview: EventNormalizer = (payload, _delivery, context) => {
  const action = actionOf(payload);
  if (action !== 'submitted') {
    return ignored('pull_request_review', `pull_request_review.${action} is not activity on the pull request.`);
  }
  const event = parsePayload(PullRequestReviewEvent, payload, 'pull_request_review');
  const observation = observePullRequest(event.pull_request, contextFor(event.repository, context));
  const activityAt = event.review.submitted_at;
  return changes('pull_request_review', [{ op: 'upsert', ...observation, ...(activityAt ? { activityAt } : {}) }]);
};

/** What a comment's text names (see core/references.ts `commentMentions`), read where the comment lives. */
const mentionsIn = (body: string | null | undefined, event: IssueCommentEvent, origin: CommentOrigin, context: NormalizeContext) =>
  commentMentions(
    {
      body: body ?? '',
      container: { source: 'github', key: event.repository.full_name.toLowerCase() },
      jiraProjects: context.jiraProjects,
      ...(context.jiraSites ? { jiraSites: context.jiraSites } : {}),
      self: githubRef(event.repository.full_name, event.issue.number),
    },
    origin,
  );

/**
 * A new comment is activity on its issue (or pull request), which the payload carries in full.
 * What a comment names is stated whole under the comment's own origin (a `complete` link change):
 * all its mentions when created or edited, none once deleted, so an edit that drops a reference
 * removes that mention and a deletion removes them all, while the issue's own mentions and other
 * comments' stay. Edits and deletions are not activity: they give only that statement, and nothing
 * when the comment named nothing before or after (GitHub sends the body before an edit). GitHub does
 * not say when a comment was deleted: the latest time the payload carries, which is at least its
 * last edit's.
 */
const normalizeIssueComment: EventNormalizer = (payload, delivery, context) => {
  const action = actionOf(payload);
  if (action !== 'created' && action !== 'edited' && action !== 'deleted') {
    return ignored('issue_comment', `issue_comment.${action} is not new activity on the issue.`);
  }
  const event = parsePayload(IssueCommentEvent, payload, 'issue_comment');
  const ref = githubRef(event.repository.full_name, event.issue.number);
  const { comment } = event;
  const origin = comment.id === undefined || comment.id === null || comment.id === '' ? undefined : githubCommentOrigin(comment.id);
  const mentions = origin ? mentionsIn(comment.body, event, origin, context) : [];
  const statement = (at: string, add: Link[]): ItemChange => ({ op: 'link', ref, at, add, remove: [], origin: origin!, complete: true });
  if (action === 'created') {
    const observation = observeIssue(event.issue, contextFor(event.repository, context));
    const upsert: ItemChange = { op: 'upsert', ...observation, activityAt: comment.created_at };
    return changes('issue_comment', mentions.length > 0 ? [upsert, statement(comment.created_at, mentions)] : [upsert]);
  }
  if (action === 'edited') {
    const before = origin && event.changes?.body ? mentionsIn(event.changes.body.from, event, origin, context) : undefined;
    if (!origin || (mentions.length === 0 && before?.length === 0)) {
      return ignored('issue_comment', 'issue_comment.edited: the comment names no other item, before or after the edit.');
    }
    return changes('issue_comment', [statement(comment.updated_at ?? delivery.receivedAt, mentions)]);
  }
  if (!origin || mentions.length === 0) {
    return ignored('issue_comment', 'issue_comment.deleted: the comment named no other item.');
  }
  const at = latest(comment.updated_at, comment.created_at, event.issue.updated_at) ?? delivery.receivedAt;
  return changes('issue_comment', [statement(at, [])]);
};

/** One entry per supported event: supporting another is adding a line, not a branch elsewhere. */
const NORMALIZERS: ReadonlyMap<string, EventNormalizer> = new Map([
  ['issues', normalizeIssues],
  ['pull_request', normalizePullRequest],
  ['pull_request_review', normalizePullRequestReview],
  ['issue_comment', normalizeIssueComment],
  ['push', normalizePush],
  ['create', normalizeCreate],
  ['delete', normalizeDelete],
]);

const parseJsonObject = (body: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw new MalformedPayloadError('The stored GitHub delivery is not valid UTF-8 JSON.', cause);
  }
};

/**
 * Pure: a stored GitHub delivery → changes to the index, or why it is ignored. Deterministic: every
 * timestamp comes from the payload (or the delivery's `receivedAt`), never from the clock.
 * Throws ValidationError when a supported event lacks a field the mapping needs.
 */
export function normalizeGithubDelivery(delivery: StoredDelivery, context: NormalizeContext): Normalized {
  const normalizer = NORMALIZERS.get(delivery.event);
  if (!normalizer) return ignored(delivery.event, `Tributary does not index GitHub ${delivery.event} events.`);
  const payload = parseJsonObject(delivery.body);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new MalformedPayloadError('The stored GitHub delivery is not a JSON object.');
  }
  return normalizer(payload, delivery, context);
}
