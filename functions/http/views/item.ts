import type { Alert } from '../../../core/alerts.ts';
import { confirmedIncoming, directDependencies } from '../../../core/dependencies.ts';
import { NotFoundError } from '../../../core/errors.ts';
import { itemIdForRef } from '../../../core/ids.ts';
import { type EventLogPage, type ItemDetail, type ItemView, buildItemContext, timelineOf } from '../../../core/item-context.ts';

export { ItemDetail, ItemView } from '../../../core/item-context.ts';
import { type WorkItem, isClosed } from '../../../core/work-item.ts';
import { alertsOfRows } from '../../../store/alerts.ts';
import type { Db } from '../../../store/db.ts';
import { getDependencyStates, loadItemPartition } from '../../../store/dependency-state.ts';
import { exploreGraph } from '../../../store/graph.ts';
import { getItems } from '../../../store/item-queries.ts';
import { loadItemWithIncoming } from '../../../store/items.ts';
import { keys } from '../../../store/keys.ts';
import { readPartition } from '../../../store/partition.ts';
import type { ViewDeps } from './viewed.ts';

/** Reads one page of an item's events from the durable per-subject event log, newest first. */
export type TimelineReader = (tenantId: string, subjectRef: string, page: { limit: number; before?: string }) => Promise<EventLogPage>;

/** A reader for a hub without an event log: no events. */
export const noTimeline: TimelineReader = async () => ({ events: [], nextCursor: null });

export interface ItemViewDeps extends ViewDeps {
  readTimeline: TimelineReader;
}

/** Blocking walks from an item page: bounded, so a page costs at most this many partition queries each way. */
const CHAIN_DEPTH = 10;
const CHAIN_NODES = 40;
/** Linked items whose open alerts are read for the page (one query each). */
const ALERT_NEIGHBOURS = 20;
const TIMELINE_PAGE = 50;
/** Resolved alerts shown with the open ones: the latest. */
const RESOLVED_SHOWN = 10;

/** Refs contain ':' and '#': routes take them URL-encoded as well as ids. */
export const itemIdOf = (param: string): string => (param.startsWith('wi_') ? param : itemIdForRef(param));

const neighbourIdsOf = (item: WorkItem, incoming: readonly { fromId: string }[]) =>
  [...new Set([...item.links.map((l) => itemIdForRef(l.target)), ...incoming.map((e) => e.fromId)])].filter((id) => id !== item.id);

const detailOf = (item: WorkItem, incoming: Parameters<typeof confirmedIncoming>[1], related: ReadonlyMap<string, WorkItem>): ItemDetail => {
  const incomingLinks = confirmedIncoming(item.ref, incoming, related);
  const dependencies = directDependencies(item, incomingLinks, related);
  const blocked = !isClosed(item.status) && dependencies.upstream.some((u) => u.status !== undefined && !isClosed(u.status) && !related.get(u.id)?.deleted);
  return { ...item, incomingLinks, dependencies, blocked };
};

/** `GET /v1/items/{id}`: one partition query and one BatchGet of the linked items. */
export const loadItemDetail = async (db: Db, tenantId: string, param: string): Promise<ItemDetail> => {
  const { item, incoming } = await loadItemWithIncoming(db, tenantId, itemIdOf(param));
  if (!item) throw new NotFoundError(`Item ${param}`);
  return detailOf(item, incoming, await getItems(db, tenantId, neighbourIdsOf(item, incoming)));
};

/** Open alerts held by linked items that name this item among their related items (e.g. `ticket_done_pr_open` on its PR). */
const alertsNaming = async (db: Db, tenantId: string, itemId: string, neighbourIds: readonly string[]): Promise<Alert[]> => {
  const rows = await Promise.all(neighbourIds.slice(0, ALERT_NEIGHBOURS).map((id) => readPartition(db, keys.item(tenantId, id).pk, 'ALERT#')));
  return alertsOfRows(rows.flat()).filter((a) => a.state === 'open' && a.related.some((r) => r.id === itemId));
};

const byRelevance = (a: Alert, b: Alert) =>
  Number(a.state !== 'open') - Number(b.state !== 'open') || (b.resolvedAt ?? b.openedAt).localeCompare(a.resolvedAt ?? a.openedAt);

/**
 * The item page's data, all of it: the item (as `GET /v1/items/{id}`), its context across tools
 * (core/item-context.ts), its alerts and a page of its timeline (each event with the tool's time of
 * its change where the event says it, `timelineOf`). Reads: the item's partition
 * (item, reverse edges, dependency state, alerts), the linked items (one BatchGet), two bounded
 * walks of the blocking graph (what blocks it, what it blocks), the dependency states of the items
 * met (one BatchGet), the alerts of up to 20 linked items, and one page of the event log.
 */
export const loadItemView = async (deps: ItemViewDeps, tenantId: string, param: string, page: { before?: string } = {}): Promise<ItemView> => {
  const { db } = deps;
  const partition = await loadItemPartition(db, tenantId, itemIdOf(param));
  const { item } = partition;
  if (!item) throw new NotFoundError(`Item ${param}`);
  const neighbourIds = neighbourIdsOf(item, partition.incoming);
  const walk = (direction: 'up' | 'down') => exploreGraph(db, tenantId, item.ref, { depth: CHAIN_DEPTH, direction, maxNodes: CHAIN_NODES });
  const [related, upstream, downstream, timeline, namingAlerts] = await Promise.all([
    getItems(db, tenantId, neighbourIds),
    walk('up'),
    walk('down'),
    deps.readTimeline(tenantId, item.ref, { limit: TIMELINE_PAGE, ...(page.before ? { before: page.before } : {}) }),
    alertsNaming(db, tenantId, item.id, neighbourIds),
  ]);
  const detail = detailOf(item, partition.incoming, related);
  const met = [...new Set([...neighbourIds, ...upstream.nodes.keys(), ...downstream.nodes.keys()])].filter((id) => id !== item.id);
  const states = await getDependencyStates(db, tenantId, met);
  const blockedSince = new Map([...states].flatMap(([id, s]) => (s.blocked && s.blockedSince ? [[id, s.blockedSince] as const] : [])));
  const context = buildItemContext({ item, incoming: detail.incomingLinks, related, upstream, downstream, blockedSince });
  const own = alertsOfRows(partition.alertRows);
  const all = [...new Map([...own, ...namingAlerts].map((a) => [a.id, a])).values()].sort(byRelevance);
  const alerts = [...all.filter((a) => a.state === 'open'), ...all.filter((a) => a.state !== 'open').slice(0, RESOLVED_SHOWN)];
  const state = partition.state;
  return {
    item: { ...detail, ...(state.blocked && state.blockedSince ? { blockedSince: state.blockedSince } : {}) },
    context,
    alerts,
    timeline: timelineOf(timeline),
  };
};
