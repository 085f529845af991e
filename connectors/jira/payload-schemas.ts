import * as z from 'zod';
import { JiraTime, OptionalJiraTime } from './dates.ts';

/**
 * Just the fields of Jira webhook payloads that the normalizer reads. Objects are loose (sites add
 * custom fields, Atlassian adds fields) and what Cloud or Data Center omit is optional.
 * Reference: https://developer.atlassian.com/cloud/jira/platform/webhooks/ (the issue payload is the
 * REST API v2 issue representation).
 */

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

export const JiraStatus = z.looseObject({
  name: z.string(),
  /** `new`, `indeterminate` or `done` (`undefined` on a few old statuses) */
  statusCategory: z.looseObject({ key: z.string() }).nullish(),
});

const IssueType = z.looseObject({ name: z.string(), subtask: z.boolean().nullish() });

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

export const JiraIssueFields = z.looseObject({
  summary: z.string(),
  issuetype: IssueType,
  project: z.looseObject({ key: z.string(), name: z.string().nullish() }),
  status: JiraStatus,
  priority: Named.nullish(),
  resolution: Named.nullish(),
  resolutiondate: OptionalJiraTime,
  assignee: JiraUser.nullish(),
  reporter: JiraUser.nullish(),
  creator: JiraUser.nullish(),
  labels: z.array(z.string()).nullish(),
  components: z.array(Named).nullish(),
  fixVersions: z.array(Named).nullish(),
  duedate: OptionalJiraTime,
  created: JiraTime,
  updated: JiraTime,
  /** wiki markup (REST v2 shape, what webhooks send) or an Atlassian Document Format object */
  description: z.unknown().optional(),
  parent: LinkedIssue.nullish(),
  subtasks: z.array(LinkedIssue).nullish(),
  issuelinks: z.array(JiraIssueLink).nullish(),
});
export type JiraIssueFields = z.infer<typeof JiraIssueFields>;

export const JiraIssue = z.looseObject({
  id: IssueId,
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
  webhookEvent: z.string(),
  timestamp: OptionalJiraTime,
  issue: JiraIssue,
  changelog: z.looseObject({ items: z.array(ChangelogItem).nullish() }).nullish(),
  /** present when the update is a comment (`issue_event_type_name: issue_commented`) */
  comment: z.looseObject({ created: OptionalJiraTime, updated: OptionalJiraTime }).nullish(),
});
export type IssueEvent = z.infer<typeof IssueEvent>;

/** `jira:issue_deleted`: only what a tombstone needs, so a partial issue still works. */
export const IssueDeletedEvent = z.looseObject({
  webhookEvent: z.string(),
  timestamp: OptionalJiraTime,
  issue: z.looseObject({
    id: IssueId.nullish(),
    key: IssueKey,
    fields: z.looseObject({ updated: OptionalJiraTime }).nullish(),
  }),
});

/** `issuelink_created` and `issuelink_deleted`: the two issues are named by id only. */
export const IssueLinkEvent = z.looseObject({
  webhookEvent: z.string(),
  timestamp: OptionalJiraTime,
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
    webhookEvent: z.string(),
    timestamp: OptionalJiraTime,
    comment: z.looseObject({
      self: z.string().nullish(),
      created: OptionalJiraTime,
      updated: OptionalJiraTime,
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

/** The schema each supported event is checked against when it arrives and read with when it is normalized. */
export const EVENT_SCHEMAS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  ['jira:issue_created', IssueEvent],
  ['jira:issue_updated', IssueEvent],
  ['jira:issue_deleted', IssueDeletedEvent],
  ['issuelink_created', IssueLinkEvent],
  ['issuelink_deleted', IssueLinkEvent],
  ['comment_created', CommentEvent],
  ['comment_updated', CommentEvent],
  ['comment_deleted', CommentEvent],
]);
