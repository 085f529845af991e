import * as z from 'zod';
import { OptionalJiraTime } from './dates.ts';

/**
 * Just the fields of Jira webhook payloads that the normalizer reads. Objects are loose (sites add
 * custom fields, Atlassian adds fields) and what Cloud or Data Center omit is optional. Times that
 * order changes (`timestamp`, `created`, `updated`, comment times) are kept as sent and read by
 * `orderingTimeOf`, which falls back when one cannot be read; other times are dropped when unreadable.
 * Reference: https://developer.atlassian.com/cloud/jira/platform/webhooks/ (the issue payload is the
 * REST API v2 issue representation).
 */

/**
 * Jira's event names are short identifiers (`jira:issue_updated`, `comment_created`, `sprint_started`).
 * The name is stored with the delivery and its failure reason, outside the compressed body: an
 * unbounded one could push that record past DynamoDB's 400 KB item limit.
 */
export const JIRA_EVENT_NAME = /^[A-Za-z0-9_:.-]{1,100}$/;

/**
 * The event a delivery is stored under when its `webhookEvent` is missing or not an event name:
 * no Jira event can be named so. Processing records it as ignored, saying what was wrong.
 */
export const UNNAMED_JIRA_EVENT = '(none)';

/** `ACME-42`; Jira project keys start with a letter and hold letters, digits and underscores. */
export const ISSUE_KEY = /^[A-Za-z][A-Za-z0-9_]*-\d+$/;

const IssueKey = z.string().regex(ISSUE_KEY, 'must be an issue key like ACME-42').transform((key) => key.toUpperCase());

/** Issue ids are strings in issue payloads and numbers in issue link payloads. */
const IssueId = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);

/** Cloud users have `accountId`; Data Center users have `key` and `name` instead. */
export const JiraUser = z.looseObject({
  accountId: z.string().nullish(),
  key: z.string().nullish(),
  name: z.string().nullish(),
  displayName: z.string().nullish(),
  emailAddress: z.string().nullish(),
  /** `atlassian` (a person's Atlassian account), `app` or `customer` (Cloud only) */
  accountType: z.string().nullish(),
  self: z.string().nullish(),
});
export type JiraUser = z.infer<typeof JiraUser>;

const Named = z.looseObject({ name: z.string() });

/** `{"name": "High", …}`, or the name alone, as some servers and automation rules send it. */
const NamedOrName = z.union([z.string().transform((name) => ({ name })), Named]);

export const JiraStatus = z.union([
  z.string().transform((name) => ({ name, statusCategory: undefined })),
  z.looseObject({
    name: z.string(),
    /** `new`, `indeterminate` or `done` (`undefined` on a few old statuses) */
    statusCategory: z.looseObject({ key: z.string() }).nullish(),
  }),
]);

const IssueType = z.union([
  z.string().transform((name) => ({ name, subtask: undefined })),
  z.looseObject({ name: z.string(), subtask: z.boolean().nullish() }),
]);

/** An issue as other issues' fields show it (`parent`, `subtasks`, the ends of `issuelinks`). */
export const LinkedIssue = z.looseObject({ id: IssueId.nullish(), key: IssueKey });

export const JiraIssueLink = z.looseObject({
  type: z.looseObject({ name: z.string(), inward: z.string().nullish(), outward: z.string().nullish() }),
  /** set when the issue holding the link is its outward side ("this issue blocks outwardIssue") */
  outwardIssue: LinkedIssue.nullish(),
  /** set when the issue holding the link is its inward side ("this issue is blocked by inwardIssue") */
  inwardIssue: LinkedIssue.nullish(),
});
export type JiraIssueLink = z.infer<typeof JiraIssueLink>;

/**
 * What the mapping needs of an issue is its key, its summary and its status (without a status, open
 * and done work cannot be told apart). The rest degrades: no issue type is a task, no project is
 * the project of the key, no `created` is the time the issue was first seen.
 */
export const JiraIssueFields = z.looseObject({
  summary: z.string(),
  issuetype: IssueType.nullish(),
  project: z.looseObject({ key: z.string(), name: z.string().nullish() }).nullish(),
  status: JiraStatus,
  priority: NamedOrName.nullish(),
  resolution: NamedOrName.nullish(),
  resolutiondate: OptionalJiraTime,
  assignee: JiraUser.nullish(),
  reporter: JiraUser.nullish(),
  creator: JiraUser.nullish(),
  labels: z.array(z.string()).nullish(),
  components: z.array(Named).nullish(),
  fixVersions: z.array(Named).nullish(),
  duedate: OptionalJiraTime,
  /** read by `orderingTimeOf` */
  created: z.unknown().optional(),
  /** read by `orderingTimeOf` */
  updated: z.unknown().optional(),
  /** wiki markup (REST v2 shape, what webhooks send) or an Atlassian Document Format object */
  description: z.unknown().optional(),
  parent: LinkedIssue.nullish(),
  subtasks: z.array(LinkedIssue).nullish(),
  issuelinks: z.array(JiraIssueLink).nullish(),
});
export type JiraIssueFields = z.infer<typeof JiraIssueFields>;

export const JiraIssue = z.looseObject({
  id: IssueId.nullish(),
  key: IssueKey,
  self: z.string().nullish(),
  fields: JiraIssueFields,
});
export type JiraIssue = z.infer<typeof JiraIssue>;

export const ChangelogItem = z.looseObject({
  field: z.string(),
  fromString: z.string().nullish(),
  toString: z.string().nullish(),
});

/** `jira:issue_created` and `jira:issue_updated`. */
export const IssueEvent = z.looseObject({
  timestamp: z.unknown().optional(),
  issue: JiraIssue,
  changelog: z.looseObject({ items: z.array(ChangelogItem).nullish() }).nullish(),
  /** present when the update is a comment (`issue_event_type_name: issue_commented`) */
  comment: z.looseObject({ created: OptionalJiraTime, updated: OptionalJiraTime }).nullish(),
});
export type IssueEvent = z.infer<typeof IssueEvent>;

/** `jira:issue_deleted`: only what a tombstone needs, so a partial issue still works. */
export const IssueDeletedEvent = z.looseObject({
  timestamp: z.unknown().optional(),
  issue: z.looseObject({
    id: IssueId.nullish(),
    key: IssueKey,
    fields: z.looseObject({ updated: z.unknown().optional() }).nullish(),
  }),
});

/** `issuelink_created` and `issuelink_deleted`: the two issues are named by id only. */
export const IssueLinkEvent = z.looseObject({
  timestamp: z.unknown().optional(),
  issueLink: z.looseObject({
    sourceIssueId: IssueId,
    destinationIssueId: IssueId,
    issueLinkType: z.looseObject({
      name: z.string(),
      outwardName: z.string().nullish(),
      inwardName: z.string().nullish(),
    }),
  }),
});

/** `comment_created`, `comment_updated` and `comment_deleted`. Old servers send no `issue`: its id is in `comment.self`. */
export const CommentEvent = z
  .looseObject({
    timestamp: z.unknown().optional(),
    comment: z.looseObject({
      self: z.string().nullish(),
      /** the comment's id, unique per site: its mentions are stated under it (also read from `self`) */
      id: z.union([z.string(), z.number()]).nullish().catch(undefined),
      /** wiki markup, or Atlassian Document Format: read for the items it names */
      body: z.unknown().optional(),
      created: z.unknown().optional(),
      updated: z.unknown().optional(),
    }),
    issue: z.looseObject({ id: IssueId.nullish(), key: IssueKey.nullish() }).nullish(),
  })
  .superRefine((event, context) => {
    if (event.issue?.key || event.issue?.id || issueIdOfCommentUrl(event.comment.self)) return;
    context.addIssue({ code: 'custom', path: ['issue', 'key'], message: 'the comment names no issue (issue.key, issue.id or comment.self)' });
  });

/** `…/rest/api/2/issue/10042/comment/10100` → `10042` */
export const issueIdOfCommentUrl = (url: string | null | undefined): string | undefined =>
  /\/issue\/(\d+)\/comment\//.exec(url ?? '')?.[1];

/** `…/rest/api/2/issue/10042/comment/10100` → `10100` */
export const commentIdOfCommentUrl = (url: string | null | undefined): string | undefined =>
  /\/comment\/(\d+)\/?$/.exec(url ?? '')?.[1];
