import * as z from 'zod';
import { Branch, Commit, IsoDateTime, Link, ObservedItem, DeletionReason, LinkOrigin, OrderedBy, isCommentOrigin } from './work-item.ts';

/** Fields an observation may declare as belonging to the earliest observation of its item. */
export const EarliestField = z.enum(['title', 'requester', 'team', 'priority', 'labels', 'url']);
export type EarliestField = z.infer<typeof EarliestField>;

/**
 * What a connector's pure `normalize` returns for one delivery: a list of changes to
 * items of the index, each keyed by the item's cross-tool ref. The core merges them.
 */
export const UpsertChange = z.object({
  op: z.literal('upsert'),
  item: ObservedItem,
  /** link origins this observation is authoritative for: their links are replaced by `item.links` */
  linkOrigins: z.array(LinkOrigin),
  /** when the tool says activity happened (comment, review); defaults to item.updatedAt */
  activityAt: IsoDateTime.optional(),
  /**
   * For tools whose deliveries each show one part of an item (an email thread, one message at a
   * time): these fields come from the observation with the earliest `createdAt` (the thread's first
   * message) whatever order the observations arrive in, and `createdAt` is the earliest seen.
   */
  earliestFields: z.array(EarliestField).optional(),
  /**
   * Other refs the same item is known by: a provisional ref a link may have named it by before its
   * site was known (`jira:ACME-42`), the tool's internal id (`jira:acme.atlassian.net/id/10042`, what
   * Jira's issue link events carry), or its ref before a move. The pipeline records them and
   * re-points links made to them at `item.ref`.
   */
  aliases: z.array(z.string()).optional(),
  /** which time gave `item.updatedAt`: recorded on the item; an unzoned one is ordered as core/merge.ts says */
  orderedBy: OrderedBy.optional(),
  /**
   * The tool did not say when the item was created: `item.createdAt` is when this delivery was
   * received, and the item keeps the earliest such time (when it was first seen), in any order.
   */
  createdAtUnknown: z.literal(true).optional(),
});

/** Activity on an item whose full state the delivery does not carry. */
export const ActivityChange = z.object({ op: z.literal('activity'), ref: z.string(), at: IsoDateTime, orderedBy: OrderedBy.optional() });

/** Links added or removed by a delivery that is about the link (e.g. Jira's `issuelink_created`). */
export const LinkChange = z.object({
  op: z.literal('link'),
  ref: z.string(),
  at: IsoDateTime,
  add: z.array(Link).default([]),
  remove: z.array(Link.pick({ type: true, target: true })).default([]),
  /**
   * The item's own observations show these links too (Jira's `fields.issuelinks`): a change that is
   * not newer than the item's `updatedAt` is already reflected in the item and changes nothing.
   */
  reflectedInItem: z.boolean().optional(),
  /**
   * The change is about the links of this origin only (a person's `manual` link next to a tool's
   * link to the same target): its removals keep the links of other origins, and its statements are
   * ordered apart from the tool's. Absent: about the link of every origin but `manual`.
   */
  origin: LinkOrigin.optional(),
  /**
   * `add` is every link of `origin` as of `at` (a comment's mentions after it was written or edited;
   * none once it is deleted): the links of that origin it does not list are removed, and `remove` is
   * not read. Only for an origin whose links are stated whole, a comment's (core/merge.ts).
   */
  complete: z.literal(true).optional(),
  /** which time gave `at`, for operators and for the merge (an unzoned time never outranks a zoned one) */
  orderedBy: OrderedBy.optional(),
}).refine((change) => !change.complete || (change.origin !== undefined && isCommentOrigin(change.origin)), {
  message: 'a complete link change states the links of a comment origin',
  path: ['origin'],
});

/**
 * Links to `from`, a provisional ref, now point at `to`, the ref it resolved to. Made by the
 * pipeline when the item behind a provisional ref is indexed; connectors need not emit it.
 */
export const RetargetChange = z.object({ op: z.literal('retarget'), ref: z.string(), from: z.string(), to: z.string() });

export const DeleteChange = z.object({
  op: z.literal('delete'),
  ref: z.string(),
  at: IsoDateTime,
  reason: DeletionReason,
  movedTo: z.string().optional(),
  /** which time gave `at`, for operators and for the merge (an unzoned time never outranks a zoned one) */
  orderedBy: OrderedBy.optional(),
});

/**
 * Commits and branches that name an item (GitHub `push`, `create`, `delete`), addressed to it by
 * ref: it adds the commits and records each branch report (a deleted branch has `deleted: true`).
 * Like a link change it amends an item the index holds, so one naming an item not indexed yet (or a
 * provisional ref, `jira:ACME-42`) waits for it in the pipeline. Merged by `core/development.ts`.
 */
export const DevelopmentChange = z.object({
  op: z.literal('development'),
  ref: z.string(),
  /** when GitHub says it happened (the push): orders changes kept for an item not indexed yet */
  at: IsoDateTime,
  commits: z.array(Commit).default([]),
  branches: z.array(Branch).default([]),
});

export const ItemChange = z.discriminatedUnion('op', [
  UpsertChange,
  ActivityChange,
  LinkChange,
  DeleteChange,
  RetargetChange,
  DevelopmentChange,
]);
export type ItemChange = z.infer<typeof ItemChange>;
export type UpsertChange = z.infer<typeof UpsertChange>;
export type LinkChange = z.infer<typeof LinkChange>;
export type DevelopmentChange = z.infer<typeof DevelopmentChange>;

export const refOfChange = (change: ItemChange): string => (change.op === 'upsert' ? change.item.ref : change.ref);

/** The outcome of normalizing one delivery. */
export type Normalized =
  | { outcome: 'changes'; event: string; changes: ItemChange[] }
  | { outcome: 'ignored'; event: string; reason: string };
