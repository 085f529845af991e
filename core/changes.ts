import { z } from 'zod';
import { IsoDateTime, Link, ObservedItem, DeletionReason, LinkOrigin } from './work-item.ts';

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
});

/** Activity on an item whose full state the delivery does not carry. */
export const ActivityChange = z.object({ op: z.literal('activity'), ref: z.string(), at: IsoDateTime });

/** Links added or removed by a delivery that is about the link (e.g. Jira's `issuelink_created`). */
export const LinkChange = z.object({
  op: z.literal('link'),
  ref: z.string(),
  at: IsoDateTime,
  add: z.array(Link).default([]),
  remove: z.array(Link.pick({ type: true, target: true })).default([]),
});

export const DeleteChange = z.object({
  op: z.literal('delete'),
  ref: z.string(),
  at: IsoDateTime,
  reason: DeletionReason,
  movedTo: z.string().optional(),
});

export const ItemChange = z.discriminatedUnion('op', [UpsertChange, ActivityChange, LinkChange, DeleteChange]);
export type ItemChange = z.infer<typeof ItemChange>;
export type UpsertChange = z.infer<typeof UpsertChange>;

export const refOfChange = (change: ItemChange): string => (change.op === 'upsert' ? change.item.ref : change.ref);

/** The outcome of normalizing one delivery. */
export type Normalized =
  | { outcome: 'changes'; event: string; changes: ItemChange[] }
  | { outcome: 'ignored'; event: string; reason: string };
