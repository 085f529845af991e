import * as z from 'zod';
import { deepEqual } from './equal.ts';
import { deterministicId, itemIdForRef } from './ids.ts';
import { Alert } from './alerts.ts';
import { Digest } from './digest.ts';
import { diffDevelopment } from './development.ts';
import { Branch, Commit, Link, Person, Status, Tombstone, WorkItem, isClosed } from './work-item.ts';

/** Bumped when an event's data changes incompatibly; consumers branch on it. */
export const EVENT_SCHEMA_VERSION = 1;

/** EventBridge `source` of everything Tributary publishes. */
export const EVENT_SOURCE = 'tributary';

export const ItemSummary = WorkItem.pick({
  id: true,
  ref: true,
  source: true,
  kind: true,
  category: true,
  title: true,
  url: true,
  status: true,
  priority: true,
  container: true,
  version: true,
});
export type ItemSummary = z.infer<typeof ItemSummary>;

const FieldChange = z.object({ before: z.unknown(), after: z.unknown() });

/** The data of each event type: the catalog consumers generate types from (`GET /v1/events/schemas`). */
export const EventData = {
  'work.item.created': z.object({ item: WorkItem }),
  'work.item.updated': z.object({ item: ItemSummary, changes: z.record(z.string(), FieldChange) }),
  'work.item.status_changed': z.object({ item: ItemSummary, from: Status, to: Status }),
  'work.item.assigned': z.object({ item: ItemSummary, owners: z.array(Person), added: z.array(Person), removed: z.array(Person) }),
  'work.item.closed': z.object({ item: ItemSummary, resolution: Status }),
  'work.item.reopened': z.object({ item: ItemSummary, from: Status }),
  'work.item.deleted': z.object({ item: ItemSummary, tombstone: Tombstone }),
  /**
   * commits naming the item were pushed, or branches naming it created or deleted (GitHub `push`,
   * `create`, `delete`): only what is new, where `work.item.updated` would repeat the whole list
   */
  'work.item.development_changed': z.object({
    item: ItemSummary,
    commitsAdded: z.array(Commit),
    branchesAdded: z.array(Branch),
    branchesRemoved: z.array(Branch),
  }),
  'work.link.added': z.object({ item: ItemSummary, link: Link, targetId: z.string() }),
  'work.link.removed': z.object({ item: ItemSummary, link: Link, targetId: z.string() }),
  /** an alert condition started to hold (a notice such as `unblocked` arrives already resolved) */
  'work.alert.raised': z.object({ alert: Alert }),
  /** an alert condition stopped holding */
  'work.alert.resolved': z.object({ alert: Alert }),
  /** last ISO week's status digest of the tenant (`digest.team` null) or of one team, once per week */
  'work.digest.ready': z.object({ week: z.string().describe('ISO week, e.g. 2026-W48'), digest: Digest }),
} as const;

export type EventType = keyof typeof EventData;
export const EventType = z.enum(Object.keys(EventData) as [EventType, ...EventType[]]);

export const EventEnvelope = z.object({
  id: z.string().describe('deterministic: the same change always yields the same id, so consumers can dedupe'),
  type: EventType,
  time: z.string(),
  tenantId: z.string(),
  subject: z.string().describe('ref of the item the event is about'),
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
  data: z.record(z.string(), z.unknown()),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

interface Draft<T extends EventType = EventType> {
  type: T;
  data: z.infer<(typeof EventData)[T]>;
}

const draft = <T extends EventType>(type: T, data: z.infer<(typeof EventData)[T]>): Draft => ({ type, data }) as Draft;

/** Fields whose changes `work.item.updated` reports, in this order. */
const TRACKED_FIELDS = [
  'title',
  'kind',
  'category',
  'status',
  'priority',
  'owners',
  'requester',
  'team',
  'labels',
  'dueAt',
  'plannedStartAt',
  'storyPoints',
  'container',
  'url',
  'closedAt',
  'deleted',
] as const satisfies readonly (keyof WorkItem)[];

const summarize = (item: WorkItem): ItemSummary => ItemSummary.parse(item);

const personKey = (p: Person): string => p.id;

const linkDiff = (a: Link[], b: Link[]): Link[] => {
  const keys = new Set(b.map((l) => `${l.type} ${l.target}`));
  return a.filter((l) => !keys.has(`${l.type} ${l.target}`));
};

const drafts = (before: WorkItem | undefined, after: WorkItem): Draft[] => {
  const item = summarize(after);
  const linkEvents = (type: 'work.link.added' | 'work.link.removed', links: Link[]) =>
    links.map((link) => draft(type, { item, link, targetId: itemIdForRef(link.target) }));

  if (!before) return [draft('work.item.created', { item: after }), ...linkEvents('work.link.added', after.links)];

  const out: Draft[] = [];
  const changes: Record<string, { before: unknown; after: unknown }> = {};
  for (const field of TRACKED_FIELDS) {
    if (!deepEqual(before[field], after[field])) changes[field] = { before: before[field] ?? null, after: after[field] ?? null };
  }
  if (Object.keys(changes).length > 0) out.push(draft('work.item.updated', { item, changes }));
  if (!deepEqual(before.status, after.status)) {
    out.push(draft('work.item.status_changed', { item, from: before.status, to: after.status }));
    if (isClosed(after.status) && !isClosed(before.status)) out.push(draft('work.item.closed', { item, resolution: after.status }));
    if (!isClosed(after.status) && isClosed(before.status)) out.push(draft('work.item.reopened', { item, from: before.status }));
  }
  const beforeOwners = new Set(before.owners.map(personKey));
  const afterOwners = new Set(after.owners.map(personKey));
  const added = after.owners.filter((p) => !beforeOwners.has(personKey(p)));
  const removed = before.owners.filter((p) => !afterOwners.has(personKey(p)));
  if (added.length > 0 || removed.length > 0) out.push(draft('work.item.assigned', { item, owners: after.owners, added, removed }));
  const development = diffDevelopment(before.development, after.development);
  if (development.commitsAdded.length > 0 || development.branchesAdded.length > 0 || development.branchesRemoved.length > 0) {
    out.push(draft('work.item.development_changed', { item, ...development }));
  }
  out.push(...linkEvents('work.link.added', linkDiff(after.links, before.links)));
  out.push(...linkEvents('work.link.removed', linkDiff(before.links, after.links)));
  if (after.deleted && !before.deleted) out.push(draft('work.item.deleted', { item, tombstone: after.deleted }));
  return out;
};

export interface EventContext {
  tenantId: string;
  /** unique per (delivery, change): event ids hash it with the event's position, so a re-run yields the same ids */
  causationKey: string;
  time: string;
}

/** The catalog events one state change of an item causes (pure, deterministic ids). */
export const eventsForChange = (before: WorkItem | undefined, after: WorkItem, context: EventContext): EventEnvelope[] =>
  drafts(before, after).map((d, index) => ({
    id: deterministicId('evt', context.causationKey, String(index)),
    type: d.type,
    time: context.time,
    tenantId: context.tenantId,
    subject: after.ref,
    schemaVersion: EVENT_SCHEMA_VERSION,
    data: d.data as Record<string, unknown>,
  }));

/**
 * The event of an alert's transition. Its id is derived from the alert id, the transition and the
 * occurrence, so re-raising the same open alert (a replay, a concurrent evaluation) yields the same id.
 */
export const alertEvent = (
  type: 'work.alert.raised' | 'work.alert.resolved',
  alert: Alert,
  context: { tenantId: string; time: string },
): EventEnvelope => ({
  id: deterministicId('evt', alert.id, type, String(alert.occurrence)),
  type,
  time: context.time,
  tenantId: context.tenantId,
  subject: alert.subject.ref,
  schemaVersion: EVENT_SCHEMA_VERSION,
  data: { alert },
});
