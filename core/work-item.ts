import * as z from 'zod';

/**
 * The normalized work item: one shape for every tool (README, "Work items").
 * Types are inferred from these schemas; the OpenAPI document is generated from them.
 */

export const Source = z.enum(['github', 'jira', 'email']);
export type Source = z.infer<typeof Source>;

export const Kind = z.enum(['issue', 'pull_request', 'task', 'bug', 'story', 'epic', 'subtask', 'incident', 'request']);
export type Kind = z.infer<typeof Kind>;

/** The kind of work: planned project work, operational/recurring work, or ad-hoc requests. */
export const Category = z.enum(['project', 'operational', 'request']);
export type Category = z.infer<typeof Category>;

export const StatusCategory = z.enum(['backlog', 'todo', 'in_progress', 'in_review', 'blocked', 'done', 'cancelled']);
export type StatusCategory = z.infer<typeof StatusCategory>;

export const PriorityLevel = z.enum(['urgent', 'high', 'medium', 'low', 'none']);
export type PriorityLevel = z.infer<typeof PriorityLevel>;

export const IsoDateTime = z.string().describe('ISO 8601 date-time (UTC)');

/** One account of a person in one tool. */
export const Handle = z.object({
  source: Source,
  /** login (GitHub), accountId or user key (Jira), address (email) */
  handle: z.string(),
  /** the tool's immutable numeric or opaque id, when it has one */
  externalId: z.string().optional(),
  url: z.string().optional(),
});
export type Handle = z.infer<typeof Handle>;

/** A person as embedded in a work item: resolved identity with every handle and address known. */
export const Person = z.object({
  id: z.string().describe('stable person id (p_…)'),
  name: z.string().optional(),
  handles: z.array(Handle),
  emails: z.array(z.string()),
  /**
   * the addresses among `emails` the tool vouches for (docs/views.md, "Verified email"): an
   * Atlassian account's address, a GitHub public profile address, a sender that passed DKIM or SPF.
   * The same verified address in two tools merges the two people automatically.
   */
  verifiedEmails: z.array(z.string()).optional(),
});
export type Person = z.infer<typeof Person>;

export const LinkType = z.enum([
  'blocks',
  'blocked_by',
  'parent',
  'child',
  'relates',
  'duplicates',
  'implements',
  'implemented_by',
  'mentions',
]);
export type LinkType = z.infer<typeof LinkType>;

/**
 * The links one comment states (`comment:github:492700400`, `comment:jira:acme.atlassian.net/10050`):
 * what the comment's text names. Each comment is an origin of its own, unique within the item it is
 * on, so its edits and its deletion change its own links only (core/references.ts `commentMentions`).
 */
export const CommentOrigin = z.templateLiteral(['comment:', z.string().min(1)]);
export type CommentOrigin = z.infer<typeof CommentOrigin>;

export const LinkOrigin = z.union([
  z.enum(['source_link', 'closing_keyword', 'key_mention', 'branch_name', 'email_thread', 'manual']),
  CommentOrigin,
]);
export type LinkOrigin = z.infer<typeof LinkOrigin>;

/** Whether links of this origin are a comment's: stated whole by the comment's own deliveries. */
export const isCommentOrigin = (origin: LinkOrigin): origin is CommentOrigin => origin.startsWith('comment:');

export const Link = z.object({
  type: LinkType,
  /** cross-tool reference of the other item, e.g. `jira:acme.atlassian.net/ACME-42` */
  target: z.string(),
  origin: LinkOrigin,
  confidence: z.number().min(0).max(1),
});
export type Link = z.infer<typeof Link>;

export const Container = z.object({
  source: Source,
  /** repo `octo/api`, Jira project key `ACME`, mailbox address */
  key: z.string(),
  name: z.string().optional(),
  /** the sprint the item is planned in (Jira: the active one, else the next) */
  sprint: z.string().optional(),
  /** the releases the item ships in (Jira fix versions) */
  fixVersions: z.array(z.string()).optional(),
});
export type Container = z.infer<typeof Container>;

export const Status = z.object({ name: z.string(), category: StatusCategory });
export type Status = z.infer<typeof Status>;

export const Priority = z.object({ name: z.string().optional(), level: PriorityLevel });
export type Priority = z.infer<typeof Priority>;

export const DeletionReason = z.enum(['deleted', 'transferred', 'access_lost']);
export const Tombstone = z.object({
  at: IsoDateTime,
  reason: DeletionReason,
  movedTo: z.string().optional(),
  /** the tool wrote the deletion's time without a zone: it is ordered as core/merge.ts says */
  zoned: z.literal(false).optional(),
});
export type Tombstone = z.infer<typeof Tombstone>;

/**
 * The fields a connector observes in its tool. Everything else on a {@link WorkItem}
 * (id, category, version, derived dates) is computed by the core.
 */
export const ObservedItem = z.object({
  ref: z.string(),
  source: Source,
  kind: Kind,
  title: z.string(),
  url: z.string().optional(),
  container: Container,
  status: Status,
  priority: Priority,
  owners: z.array(Person),
  requester: Person.optional(),
  /** the team the tool assigns the item to (an email connection maps recipient addresses to teams); kept when absent */
  team: z.string().optional(),
  /** the kind of work when the tool or the connection's rules say so; otherwise the core's default rules decide */
  category: Category.optional(),
  labels: z.array(z.string()),
  dueAt: IsoDateTime.optional(),
  /** when work is planned to start (Jira's Start date) */
  plannedStartAt: IsoDateTime.optional(),
  /** the estimate in story points */
  storyPoints: z.number().optional(),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
  closedAt: IsoDateTime.optional(),
  links: z.array(Link),
});
export type ObservedItem = z.infer<typeof ObservedItem>;

/**
 * The latest addition or removal of one link (by type and target) made by a link change, kept so
 * that a late, older change cannot undo a newer one whatever order the deliveries arrive in.
 */
export const LinkStatement = z.object({
  type: LinkType,
  target: z.string(),
  at: IsoDateTime,
  /** the link as added; absent when the statement removed it */
  link: Link.optional(),
  /** the item's own observations show this link too (Jira issue links), so a newer observation supersedes it */
  reflected: z.boolean().optional(),
  /** the statement is about the link of this origin only (a manual link); absent: of every other origin */
  origin: LinkOrigin.optional(),
  /** the tool wrote the statement's time without a zone: it is ordered as core/merge.ts says */
  zoned: z.literal(false).optional(),
});
export type LinkStatement = z.infer<typeof LinkStatement>;

/**
 * The latest statement of an origin whose links are stated whole (a comment's mentions, see
 * {@link CommentOrigin}): the item holds exactly the links that statement made, and an older one
 * changes nothing, whatever order the deliveries arrive in.
 */
export const OriginStatement = z.object({
  origin: LinkOrigin,
  at: IsoDateTime,
  /** the tool wrote the statement's time without a zone: it is ordered as core/merge.ts says */
  zoned: z.literal(false).optional(),
});
export type OriginStatement = z.infer<typeof OriginStatement>;

/** Who wrote a commit, as a push names them: the git author's name and, when GitHub matched it to an account, the login. */
export const CommitAuthor = z.object({ name: z.string().optional(), login: z.string().optional() });
export type CommitAuthor = z.infer<typeof CommitAuthor>;

/** A commit whose message names the item (GitHub `push`), as Jira's development panel lists it. */
export const Commit = z.object({
  sha: z.string(),
  repository: z.string().describe('where it was pushed, e.g. `octo/api`'),
  message: z.string().describe("the message's first line"),
  author: CommitAuthor,
  at: IsoDateTime.describe('the commit time GitHub reports'),
  url: z.string().optional(),
  branches: z.array(z.string()).describe('the branches the pushes that carried it went to (none for a tag)'),
});
export type Commit = z.infer<typeof Commit>;

/**
 * A branch whose name names the item (GitHub `create`, `delete`, `push`): the latest thing GitHub
 * reported about it. A deleted branch stays listed, so a late, older report cannot bring it back.
 */
export const Branch = z.object({
  repository: z.string().describe('e.g. `octo/api`'),
  name: z.string(),
  url: z.string().optional(),
  at: IsoDateTime.describe('when GitHub last reported it: created, pushed to or deleted'),
  deleted: z.boolean().optional(),
});
export type Branch = z.infer<typeof Branch>;

/** The commits and branches that name an item: its most recent ones (see `core/development.ts`). */
export const Development = z.object({ commits: z.array(Commit), branches: z.array(Branch) });
export type Development = z.infer<typeof Development>;

/** The `orderedBy.field` of a change ordered by when its delivery was received: the payload held no readable time. */
export const RECEIVED = 'received';

/**
 * Which time ordered a change against the state the index holds, for operators and for the merge.
 * A time written without a zone is read as UTC, and may be off by the zone's offset (UTC−12 to
 * UTC+14): such a time never outranks a zoned one within 14 hours of it (core/merge.ts).
 */
export const OrderedBy = z.object({
  /** the payload field the time came from, in the tool's terms (Jira: `timestamp`, `fields.updated`), or `received` */
  field: z.string(),
  /** false when the tool wrote the time without a zone */
  zoned: z.boolean(),
  /** fields tried before it that were absent or held a time that could not be read */
  skipped: z.array(z.string()).optional(),
});
export type OrderedBy = z.infer<typeof OrderedBy>;

export const WorkItem = ObservedItem.extend({
  id: z.string().describe('stable id of the item in the index (wi_…), derived from its ref'),
  category: Category,
  startedAt: IsoDateTime.optional(),
  /** the latest activity seen in the tool (comments, reviews), at least updatedAt */
  activityAt: IsoDateTime,
  deleted: Tombstone.optional(),
  /** the time that ordered the observation this state comes from (its `updatedAt`), when the connector says which (Jira) */
  orderedBy: OrderedBy.optional(),
  /** merge bookkeeping, present once link changes touched the item: see {@link LinkStatement} */
  linkLog: z.array(LinkStatement).optional(),
  /** merge bookkeeping, present once a comment stated its links: see {@link OriginStatement} */
  originLog: z.array(OriginStatement).optional(),
  /** commits and branches that name the item, newest first; absent until a push or branch names it */
  development: Development.optional(),
  version: z.number().int().positive(),
});
export type WorkItem = z.infer<typeof WorkItem>;

/** Status categories of finished work. */
export const CLOSED_STATUSES: ReadonlySet<StatusCategory> = new Set(['done', 'cancelled']);

export const isClosed = (status: Status): boolean => CLOSED_STATUSES.has(status.category);
