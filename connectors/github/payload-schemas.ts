import * as z from 'zod';
import { clip } from '../../core/clip.ts';

/**
 * Just the fields of GitHub webhook payloads that the normalizer reads. GitHub adds fields all the
 * time: objects accept them and drop them (copying the hundreds of unread fields of a payload would
 * cost more than the normalizing). Anything GitHub omits in some payload or on GitHub Enterprise
 * Server is optional. Reference: https://docs.github.com/en/webhooks/webhook-events-and-payloads
 */

/**
 * A timestamp as GitHub sends it: an ISO 8601 string, or epoch seconds in some repository objects.
 * Normalized to `toISOString()` UTC so timestamps compare as strings.
 */
export const GithubTimestamp = z.union([z.string(), z.number()]).transform((value, context) => {
  const millis = typeof value === 'number' ? value * 1000 : Date.parse(value);
  if (Number.isNaN(millis)) {
    context.addIssue({ code: 'custom', message: `${JSON.stringify(typeof value === 'string' ? clip(value, 40) : value)} is not a date` });
    return z.NEVER;
  }
  return new Date(millis).toISOString();
});

const optionalTimestamp = GithubTimestamp.nullish().transform((value) => value ?? undefined);

export const GithubUser = z.object({
  login: z.string(),
  id: z.number(),
  name: z.string().nullish(),
  email: z.string().nullish(),
  html_url: z.string().nullish(),
});
export type GithubUser = z.infer<typeof GithubUser>;

/**
 * An issue or pull request number. Some senders (GitHub Enterprise Server proxies, apps relaying
 * payloads) send it as a string of digits: the same number either way.
 */
export const GithubNumber = z
  .union([z.number(), z.string().trim().regex(/^\d+$/, 'not a number').transform(Number)])
  .pipe(z.number().int().positive());

/** A label object, or a label given by its name alone (as some senders and older payloads do). */
const GithubLabel = z.union([z.object({ name: z.string() }), z.string().transform((name) => ({ name }))]);

/** A due date that is not a date is not known: the item is indexed without one. */
const GithubMilestone = z.object({ due_on: optionalTimestamp.catch(undefined) });

export const GithubRepository = z.object({
  full_name: z.string(),
  html_url: z.string().nullish(),
  updated_at: optionalTimestamp,
});
export type GithubRepository = z.infer<typeof GithubRepository>;

/** Fields shared by issues and pull requests. */
const itemFields = {
  number: GithubNumber,
  title: z.string(),
  html_url: z.string().nullish(),
  state: z.string(),
  body: z.string().nullish(),
  user: GithubUser.nullish(),
  assignee: GithubUser.nullish(),
  assignees: z.array(GithubUser).nullish(),
  labels: z.array(GithubLabel).nullish(),
  milestone: GithubMilestone.nullish(),
  created_at: GithubTimestamp,
  updated_at: GithubTimestamp,
  closed_at: optionalTimestamp,
};

export const GithubIssue = z.object({
  ...itemFields,
  /** `completed`, `not_planned`, `reopened`, `duplicate`, or null (older issues) */
  state_reason: z.string().nullish(),
  /** present when the "issue" is a pull request: every pull request is also an issue on GitHub */
  pull_request: z.object({ merged_at: optionalTimestamp, html_url: z.string().nullish() }).nullish(),
  /** GitHub includes it on issues that are pull requests, but not everywhere (GHES) */
  draft: z.boolean().nullish(),
});
export type GithubIssue = z.infer<typeof GithubIssue>;

export const GithubPullRequest = z.object({
  ...itemFields,
  draft: z.boolean().nullish(),
  /** absent from the simplified pull request of `pull_request_review` payloads: use merged_at */
  merged: z.boolean().nullish(),
  merged_at: optionalTimestamp,
  head: z.object({ ref: z.string() }).nullish(),
});
export type GithubPullRequest = z.infer<typeof GithubPullRequest>;

export const IssuesEvent = z.object({
  action: z.string(),
  issue: GithubIssue,
  repository: GithubRepository,
});

/** `issues.deleted` and `issues.transferred`: only what a tombstone needs, so a partial issue still works. */
export const IssueRemovedEvent = z.object({
  action: z.string(),
  issue: z.object({ number: GithubNumber, updated_at: optionalTimestamp }),
  repository: GithubRepository,
  changes: z
    .looseObject({
      new_issue: z
        .looseObject({
          number: GithubNumber,
          repository_url: z.string().nullish(),
          created_at: optionalTimestamp,
        })
        .nullish(),
      new_repository: GithubRepository.nullish(),
    })
    .nullish(),
});

export const PullRequestEvent = z.object({
  action: z.string(),
  pull_request: GithubPullRequest,
  repository: GithubRepository,
});

export const PullRequestReviewEvent = z.object({
  action: z.string(),
  review: z.object({ submitted_at: optionalTimestamp }),
  pull_request: GithubPullRequest,
  repository: GithubRepository,
});

export const IssueCommentEvent = z.object({
  action: z.string(),
  comment: z.object({
    /** unique within the issue: the comment's mentions are stated under it (without one, none are) */
    id: z.union([z.number(), z.string()]).nullish().catch(undefined),
    /** read for the items it names: one that is not text names none */
    body: z.string().nullish().catch(undefined),
    created_at: GithubTimestamp,
    updated_at: optionalTimestamp.catch(undefined),
  }),
  /** `edited`: the body before the edit (unreadable: not known) */
  changes: z.object({ body: z.object({ from: z.string().nullish() }).nullish() }).nullish().catch(undefined),
  issue: GithubIssue,
  repository: GithubRepository,
});
export type IssueCommentEvent = z.infer<typeof IssueCommentEvent>;

export const PingEvent = z.object({
  zen: z.string().nullish(),
  hook_id: z.number().nullish(),
});

/**
 * A repository as `push`, `create` and `delete` deliveries carry it. `pushed_at` (epoch seconds in
 * `push`, ISO in `create`/`delete`) is when the reported push happened: the time of the change. A
 * bad one falls back to the delivery's time rather than refusing the push.
 */
export const PushedRepository = GithubRepository.extend({ pushed_at: optionalTimestamp.catch(undefined) });
export type PushedRepository = z.infer<typeof PushedRepository>;

/** One commit of a push. Only `id` is needed: a commit missing anything else is still linked. */
export const PushCommit = z.object({
  id: z.string().min(1),
  message: z.string().nullish(),
  timestamp: optionalTimestamp.catch(undefined),
  url: z.string().nullish(),
  author: z.object({ name: z.string().nullish(), username: z.string().nullish() }).nullish().catch(undefined),
});
export type PushCommit = z.infer<typeof PushCommit>;

/**
 * `push`: https://docs.github.com/en/webhooks/webhook-events-and-payloads#push. `ref` is the full
 * ref (`refs/heads/main`, `refs/tags/v1`); `created`/`deleted` say the push created or deleted it,
 * `forced` that it was a force push; `commits` lists the pushed commits (at most 2048).
 */
export const PushEvent = z.object({
  ref: z.string(),
  created: z.boolean().nullish(),
  deleted: z.boolean().nullish(),
  forced: z.boolean().nullish(),
  commits: z.array(z.unknown()).nullish(),
  repository: PushedRepository,
});

/** `create` and `delete`: a branch or tag, by its short name (`feature/ACME-1`, not `refs/heads/…`). */
export const RefEvent = z.object({
  ref: z.string(),
  ref_type: z.string(),
  repository: PushedRepository,
});
