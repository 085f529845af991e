import * as z from 'zod';
import { Alert } from './alerts.ts';
import { Dependencies, IncomingLink } from './dependencies.ts';
import type { BlockingEdge } from './graph.ts';
import { itemIdForRef } from './ids.ts';
import { IsoDateTime, Kind, type Link, LinkOrigin, LinkType, type Person, Source, Status, WorkItem, isClosed, isCommentOrigin } from './work-item.ts';

/**
 * An item's whole story across tools (pure): what implements it and what it implements, where it
 * is mentioned, what blocks it and what it blocks (followed transitively through open work), its
 * parent and children. Every other item is described the same way — source, status, owners, team,
 * last change, links to it in its tool and on the dashboard — whatever tool it lives in. The store
 * reads the neighbourhood; this module only arranges it.
 */

/** A pull request's state as people say it. */
export const PullRequestState = z.enum(['draft', 'open', 'in_review', 'merged', 'closed']);
export type PullRequestState = z.infer<typeof PullRequestState>;

/** Whether the team has answered an email request: `waiting` until its reply is the latest message. */
export const RequestAnswer = z.enum(['answered', 'waiting', 'closed']);
export type RequestAnswer = z.infer<typeof RequestAnswer>;

/** Any item as the dashboard lists it, whatever tool it lives in. */
export const ItemEntry = z.object({
  id: z.string().describe('the item id (`wi_…`): its page is `/items/{id}`'),
  ref: z.string(),
  indexed: z.boolean().describe('false while the other item is not in the index yet (only its ref is known)'),
  source: Source.optional(),
  kind: Kind.optional(),
  title: z.string().optional(),
  url: z.string().optional().describe('the item in its tool'),
  status: Status.optional(),
  owners: z.array(z.string()).describe('owner names'),
  team: z.string().optional(),
  createdAt: IsoDateTime.optional(),
  updatedAt: IsoDateTime.optional().describe('its last change in the tool'),
  pullRequest: PullRequestState.optional().describe('for pull requests'),
  request: z
    .object({ requester: z.string().nullable(), answer: RequestAnswer })
    .optional()
    .describe('for email requests: who asked, and whether the team answered'),
  blockedSince: IsoDateTime.optional().describe('when its blocked flag turned on, while it is blocked'),
});
export type ItemEntry = z.infer<typeof ItemEntry>;

/** An item linked with the one the context is about, and how. */
export const LinkedItem = ItemEntry.extend({
  via: z.object({
    type: LinkType.describe('the link read from the item the context is about'),
    origin: LinkOrigin,
    confidence: z.number(),
    heldBy: z.enum(['this', 'other']).describe('which of the two items states the link'),
  }),
});
export type LinkedItem = z.infer<typeof LinkedItem>;

export const ChainNode = LinkedItem.extend({
  depth: z.number().int().describe('1 for a direct neighbour, 2 for its neighbour, …'),
  root: z.boolean().describe('upstream: a root blocker (nothing open blocks it); downstream: nothing open waits on it'),
});
export type ChainNode = z.infer<typeof ChainNode>;

export const DependencyChain = z.object({
  nodes: z.array(ChainNode),
  edges: z.array(z.object({ from: z.string().describe('the blocker'), to: z.string().describe('what it blocks') })),
  truncated: z.boolean().describe('the walk stopped at its budget: more lies beyond'),
});
export type DependencyChain = z.infer<typeof DependencyChain>;

export const ItemContext = z.object({
  implementedBy: z.array(LinkedItem).describe('pull requests (and other work) implementing this item'),
  implements: z.array(LinkedItem).describe('what this item implements'),
  mentionedIn: z.array(LinkedItem).describe('emails, issues and pull requests whose text, or a comment on which, names this item'),
  mentions: z.array(LinkedItem).describe('what this item’s own text and its comments name'),
  related: z.array(LinkedItem).describe('other links: relates to, duplicates'),
  parents: z.array(LinkedItem),
  children: z.array(LinkedItem),
  blockedBy: DependencyChain.describe('what blocks this item, followed through open blockers to the root blockers'),
  blocks: DependencyChain.describe('what waits on this item, followed through open dependents'),
});
export type ItemContext = z.infer<typeof ItemContext>;

/** One event of the item's timeline, as the durable per-subject event log holds it. */
export const TimelineEvent = z.object({
  id: z.string(),
  type: z.string(),
  time: IsoDateTime.describe('when the hub recorded the event (processed the change)'),
  subject: z.string(),
  data: z.record(z.string(), z.unknown()),
  cursor: z.string().describe('pass as `before` to read older events'),
});
export type TimelineEvent = z.infer<typeof TimelineEvent>;

/** A page of an item's events as the event log answers it, newest first. */
export interface EventLogPage {
  events: TimelineEvent[];
  nextCursor: string | null;
}

/** An event as the timeline shows it: with when its change happened in its tool. */
export const TimelineEntry = TimelineEvent.extend({
  at: IsoDateTime.describe(
    "when the change happened in its tool, when the event's data says so (`work.item.created`: the item's `createdAt`; a close: its `closedAt`; a deletion: the tombstone's time; commits and branches: the latest time GitHub reported); otherwise, and never later than, `time`",
  ),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

export const Timeline = z.object({
  events: z.array(TimelineEntry).describe('newest first, in the order of the event log (not of `at`)'),
  nextCursor: z.string().nullable().describe('older events: `?before=` this cursor'),
});
export type Timeline = z.infer<typeof Timeline>;

/** `GET /v1/items/{id}`: the item with its links in both directions and its derived blocked flag. */
export const ItemDetail = WorkItem.extend({
  incomingLinks: z.array(IncomingLink).describe('links other items hold to this one, read from this side'),
  dependencies: Dependencies,
  blocked: z.boolean().describe('derived: an item it waits on, in any tool, is still open'),
});
export type ItemDetail = z.infer<typeof ItemDetail>;

/** `GET /v1/items/{id}/context` and the item page: the item and its whole story across tools. */
export const ItemView = z.object({
  item: ItemDetail.extend({ blockedSince: IsoDateTime.optional().describe('when its blocked flag turned on, while blocked') }),
  context: ItemContext,
  alerts: z.array(Alert).describe('its alerts (open first, then the 10 latest resolved) and the open alerts of linked items that name it'),
  timeline: Timeline.describe('from the durable per-subject event log: created, status changes, links, alerts'),
});
export type ItemView = z.infer<typeof ItemView>;

const MENTION_ORIGINS: ReadonlySet<Link['origin']> = new Set(['key_mention', 'email_thread', 'closing_keyword', 'branch_name']);

/** Links read from text: an item's own, an email thread's, a branch name, or a comment's (`comment:…`). */
const isMentionOrigin = (origin: Link['origin']): boolean => MENTION_ORIGINS.has(origin) || isCommentOrigin(origin);

export const personName = (p: Person): string => p.name ?? p.handles[0]?.handle ?? p.emails[0] ?? p.id;

export const pullRequestStateOf = (item: Pick<WorkItem, 'kind' | 'status'>): PullRequestState | undefined => {
  if (item.kind !== 'pull_request') return undefined;
  if (item.status.category === 'done') return 'merged';
  if (item.status.category === 'cancelled') return 'closed';
  if (item.status.name === 'draft') return 'draft';
  return item.status.category === 'in_review' ? 'in_review' : 'open';
};

export const requestAnswerOf = (item: Pick<WorkItem, 'source' | 'kind' | 'status'>): RequestAnswer | undefined => {
  if (item.source !== 'email' || item.kind !== 'request') return undefined;
  if (isClosed(item.status)) return 'closed';
  return item.status.name === 'answered' || item.status.category === 'in_progress' ? 'answered' : 'waiting';
};

export interface Via {
  type: Link['type'];
  origin: Link['origin'];
  confidence: number;
  heldBy: 'this' | 'other';
}

/** Any item, indexed or only named by a ref, as the dashboard lists it. */
export const itemEntryOf = (ref: string, other: WorkItem | undefined, blockedSince?: string): ItemEntry => {
  const base: ItemEntry = { id: itemIdForRef(ref), ref, indexed: other !== undefined, owners: [] };
  if (!other) return base;
  const answer = requestAnswerOf(other);
  const pr = pullRequestStateOf(other);
  return {
    ...base,
    id: other.id,
    ref: other.ref,
    source: other.source,
    kind: other.kind,
    title: other.title,
    ...(other.url ? { url: other.url } : {}),
    status: other.status,
    owners: other.owners.map(personName),
    ...(other.team ? { team: other.team } : {}),
    createdAt: other.createdAt,
    updatedAt: other.updatedAt,
    ...(pr ? { pullRequest: pr } : {}),
    ...(answer ? { request: { requester: other.requester ? personName(other.requester) : null, answer } } : {}),
    ...(blockedSince && !isClosed(other.status) ? { blockedSince } : {}),
  };
};

/** A linked item: its entry and the link that joins it. */
export const linkedItemOf = (ref: string, other: WorkItem | undefined, via: Via, blockedSince?: string): LinkedItem => ({
  ...itemEntryOf(ref, other, blockedSince),
  via,
});

type Category = Exclude<keyof ItemContext, 'blockedBy' | 'blocks'>;

const categoryOf = (link: Link, heldBy: Via['heldBy']): Category | undefined => {
  switch (link.type) {
    case 'implements':
      return 'implements';
    case 'implemented_by':
      return 'implementedBy';
    // `A parent B`: A is the parent of B (Jira's sub-task link); `A child B`: B is A's parent.
    case 'parent':
      return 'children';
    case 'child':
      return 'parents';
    case 'relates':
    case 'mentions':
      if (!isMentionOrigin(link.origin)) return 'related';
      return heldBy === 'other' ? 'mentionedIn' : 'mentions';
    case 'duplicates':
      return 'related';
    default:
      // blocks / blocked_by: the dependency chains
      return undefined;
  }
};

/** A bounded walk of the blocking graph from the item (store/graph.ts `exploreGraph`). */
export interface ExploredNeighbourhood {
  nodes: ReadonlyMap<string, { id: string; ref: string; item: WorkItem | undefined }>;
  edges: readonly BlockingEdge[];
  truncated: boolean;
}

export interface ItemContextInput {
  item: WorkItem;
  /** links other items hold to this one, confirmed and read from this side (core/dependencies.ts `confirmedIncoming`) */
  incoming: readonly IncomingLink[];
  /** the items this one links with in either direction, by id */
  related: ReadonlyMap<string, WorkItem>;
  /** the blocking graph walked upstream (what this item waits on) and downstream */
  upstream: ExploredNeighbourhood;
  downstream: ExploredNeighbourhood;
  /** `blockedSince` of the items that are blocked, by id */
  blockedSince: ReadonlyMap<string, string>;
}

const isOpen = (item: WorkItem | undefined): boolean => item === undefined || (!item.deleted && !isClosed(item.status));

const sortLinked = (a: LinkedItem, b: LinkedItem): number =>
  Number(a.status ? isClosed(a.status) : false) - Number(b.status ? isClosed(b.status) : false) ||
  (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') ||
  a.ref.localeCompare(b.ref);

/**
 * The chain of blockers (upstream) or dependents (downstream) from the item, breadth first. Only
 * open items pass blocking on: a done blocker is listed, but what blocks it no longer matters.
 * Each node appears once, at its shortest distance, so cycles end.
 */
const chainOf = (input: ItemContextInput, direction: 'up' | 'down'): DependencyChain => {
  const graph = direction === 'up' ? input.upstream : input.downstream;
  const { item } = input;
  const next = (id: string) =>
    graph.edges.filter((e) => (direction === 'up' ? e.to === id : e.from === id)).map((e) => ({ other: direction === 'up' ? e.from : e.to, edge: e }));
  const depth = new Map<string, number>([[item.id, 0]]);
  const edges: { from: string; to: string }[] = [];
  const order: string[] = [];
  let frontier = [item.id];
  for (let d = 1; frontier.length > 0; d++) {
    const following: string[] = [];
    for (const id of frontier) {
      if (id !== item.id && !isOpen(graph.nodes.get(id)?.item)) continue;
      for (const { other, edge } of next(id)) {
        if (other === item.id) continue;
        edges.push({ from: edge.from, to: edge.to });
        if (depth.has(other)) continue;
        depth.set(other, d);
        order.push(other);
        following.push(other);
      }
    }
    frontier = following;
  }
  const nodes = order.map((id): ChainNode => {
    const node = graph.nodes.get(id);
    const edge = graph.edges.find((e) => (direction === 'up' ? e.from === id : e.to === id))!;
    const via: Via = { type: direction === 'up' ? 'blocks' : 'blocked_by', origin: edge.origin, confidence: edge.confidence, heldBy: 'other' };
    const onward = next(id).some(({ other }) => other !== item.id && isOpen(graph.nodes.get(other)?.item));
    return {
      ...linkedItemOf(node?.ref ?? id, node?.item, via, input.blockedSince.get(id)),
      depth: depth.get(id)!,
      root: isOpen(node?.item) && !onward,
    };
  });
  const unique = [...new Map(edges.map((e) => [`${e.from}>${e.to}`, e])).values()];
  return { nodes, edges: unique, truncated: graph.truncated };
};

/** The item's context: its links in both directions, grouped the way people read them. */
export const buildItemContext = (input: ItemContextInput): ItemContext => {
  const { item } = input;
  const groups = new Map<Category, Map<string, LinkedItem>>();
  const add = (link: Link, heldBy: Via['heldBy']) => {
    const category = categoryOf(link, heldBy);
    if (!category) return;
    const id = itemIdForRef(link.target);
    if (id === item.id) return;
    const entries = groups.get(category) ?? new Map<string, LinkedItem>();
    const seen = entries.get(id);
    // Both items often state the same link (Jira shows it on both issues): the most confident one.
    if (seen && seen.via.confidence >= link.confidence) return;
    const other = input.related.get(id);
    entries.set(id, linkedItemOf(link.target, other, { type: link.type, origin: link.origin, confidence: link.confidence, heldBy }, input.blockedSince.get(id)));
    groups.set(category, entries);
  };
  for (const link of item.links) add(link, 'this');
  for (const link of input.incoming) add(link, 'other');
  const list = (category: Category) => [...(groups.get(category)?.values() ?? [])].sort(sortLinked);
  // An email that mentions the item and is also linked otherwise shows once, where it says most.
  const mentionedIn = list('mentionedIn');
  const related = list('related').filter((r) => !mentionedIn.some((m) => m.id === r.id));
  return {
    implementedBy: list('implementedBy'),
    implements: list('implements'),
    mentionedIn,
    mentions: list('mentions'),
    related,
    parents: list('parents'),
    children: list('children'),
    blockedBy: chainOf(input, 'up'),
    blocks: chainOf(input, 'down'),
  };
};

type Data = Record<string, unknown>;
const record = (value: unknown): Data | undefined => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Data) : undefined);
const isoTime = (value: unknown): string | undefined => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : undefined);
const latest = (times: readonly (string | undefined)[]): string | undefined =>
  times.filter((t): t is string => t !== undefined).sort((a, b) => Date.parse(b) - Date.parse(a))[0];
const timesOf = (list: unknown): (string | undefined)[] => (Array.isArray(list) ? list.map((entry) => isoTime(record(entry)?.at)) : []);

/** The tool's close time a `work.item.updated` of the same change reports (`changes.closedAt.after`). */
const closedAtOf = (event: TimelineEvent): string | undefined =>
  event.type === 'work.item.updated' ? isoTime(record(record(event.data.changes)?.closedAt)?.after) : undefined;

const CLOSED_CATEGORIES = new Set(['done', 'cancelled']);

/**
 * When the change an event reports happened in its tool, as far as the event's data says (pure);
 * undefined when it does not say. `change` holds the events of the same change (one processing of
 * the item writes its events with one `time`): a close's `work.item.closed` and `status_changed`
 * carry no time of their own, the `work.item.updated` beside them carries the tool's `closedAt`.
 * Status changes, assignments and links carry none: they show when the hub recorded them.
 */
export const toolTimeOf = (event: TimelineEvent, change: readonly TimelineEvent[] = [event]): string | undefined => {
  const data = event.data;
  switch (event.type) {
    case 'work.item.created':
      return isoTime(record(data.item)?.createdAt);
    case 'work.item.updated': {
      const changes = record(data.changes);
      return closedAtOf(event) ?? isoTime(record(record(changes?.deleted)?.after)?.at);
    }
    case 'work.item.closed':
    case 'work.item.status_changed': {
      const closing = event.type === 'work.item.closed' || CLOSED_CATEGORIES.has(String(record(data.to)?.category));
      return closing ? latest(change.map(closedAtOf)) : undefined;
    }
    case 'work.item.deleted':
      return isoTime(record(data.tombstone)?.at);
    case 'work.item.development_changed':
      return latest([...timesOf(data.commitsAdded), ...timesOf(data.branchesAdded), ...timesOf(data.branchesRemoved)]);
    default:
      return undefined;
  }
};

/**
 * A page of the event log as the timeline shows it (pure): each event with `at`, the tool's time of
 * its change when the data says it ({@link toolTimeOf}), else the hub's `time`. A tool time later
 * than the hub's (a tool's clock ahead) is taken as the hub's: nothing is recorded before it
 * happens. The order stays the log's.
 */
export const timelineOf = (page: EventLogPage): Timeline => ({
  events: page.events.map((event) => {
    const change = page.events.filter((other) => other.time === event.time && other.subject === event.subject);
    const tool = toolTimeOf(event, change);
    const at = tool !== undefined && Date.parse(tool) <= Date.parse(event.time) ? tool : event.time;
    return { ...event, at };
  }),
  nextCursor: page.nextCursor,
});
