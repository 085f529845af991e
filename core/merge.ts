import type { ItemChange, UpsertChange } from './changes.ts';
import { categorize } from './category.ts';
import { deepEqual } from './equal.ts';
import { itemIdForRef } from './ids.ts';
import { type Link, type StatusCategory, type WorkItem, isClosed } from './work-item.ts';

const STARTED: ReadonlySet<StatusCategory> = new Set(['in_progress', 'in_review']);

const compareTimes = (a: string, b: string): number => Date.parse(a) - Date.parse(b);

const later = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : compareTimes(a, b) >= 0 ? a : b;

const earliest = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : compareTimes(a, b) <= 0 ? a : b;

/** Older than what the index holds: an out-of-order delivery that must not roll the item back. */
const isStale = (current: WorkItem, at: string): boolean => compareTimes(at, current.updatedAt) < 0;

/** One link per (type, target, origin): a manual link survives an extracted one for the same target. */
const linkKey = (l: Pick<Link, 'type' | 'target' | 'origin'>): string => `${l.type} ${l.target} ${l.origin}`;

const sortLinks = (links: Link[]): Link[] => {
  const byKey = new Map<string, Link>();
  for (const link of links) {
    const seen = byKey.get(linkKey(link));
    if (!seen || link.confidence > seen.confidence) byKey.set(linkKey(link), link);
  }
  return [...byKey.values()].sort((a, b) => linkKey(a).localeCompare(linkKey(b)));
};

/** When work started: the earliest observation in a started status, whatever order they arrive in. */
const startedAtOf = (current: WorkItem | undefined, observed: UpsertChange['item']): string | undefined =>
  earliest(current?.startedAt, STARTED.has(observed.status.category) ? observed.updatedAt : undefined);

/**
 * An observation older than the index cannot change the state, but it still tells when work
 * started, when it closed (for tools that give no close time) and when there was activity.
 */
const applyHistory = (current: WorkItem, change: UpsertChange): WorkItem => {
  const observed = change.item;
  const closedAt =
    isClosed(current.status) && isClosed(observed.status) && !observed.closedAt
      ? earliest(current.closedAt, observed.updatedAt)
      : current.closedAt;
  return {
    ...current,
    startedAt: startedAtOf(current, observed),
    closedAt,
    activityAt: later(current.activityAt, change.activityAt) ?? current.activityAt,
    version: current.version + 1,
  };
};

const upsert = (current: WorkItem | undefined, change: UpsertChange): WorkItem | undefined => {
  const observed = change.item;
  if (current?.deleted && compareTimes(observed.updatedAt, current.deleted.at) <= 0) return undefined;
  if (current && isStale(current, observed.updatedAt)) return applyHistory(current, change);
  const closed = isClosed(observed.status);
  const authoritative = new Set(change.linkOrigins);
  return {
    ...observed,
    id: itemIdForRef(observed.ref),
    category: categorize(observed),
    team: current?.team,
    links: sortLinks([...(current?.links ?? []).filter((l) => !authoritative.has(l.origin)), ...observed.links]),
    startedAt: startedAtOf(current, observed),
    closedAt: closed ? (observed.closedAt ?? current?.closedAt ?? observed.updatedAt) : undefined,
    activityAt: later(later(current?.activityAt, change.activityAt), observed.updatedAt) ?? observed.updatedAt,
    deleted: undefined,
    version: (current?.version ?? 0) + 1,
  };
};

const next = (current: WorkItem | undefined, change: ItemChange): WorkItem | undefined => {
  if (change.op === 'upsert') return upsert(current, change);
  // Activity, link and delete changes amend an item the index already holds.
  if (!current) return undefined;
  const version = current.version + 1;
  switch (change.op) {
    case 'activity':
      return { ...current, activityAt: later(current.activityAt, change.at) ?? current.activityAt, version };
    case 'link': {
      const removed = new Set(change.remove.map((l) => `${l.type} ${l.target}`));
      const kept = current.links.filter((l) => !removed.has(`${l.type} ${l.target}`));
      return { ...current, links: sortLinks([...kept, ...change.add]), version };
    }
    case 'delete':
      if (current.deleted || isStale(current, change.at)) return undefined;
      return { ...current, deleted: { at: change.at, reason: change.reason, movedTo: change.movedTo }, version };
  }
};

/**
 * Applies one normalized change to the item the index holds (pure).
 * Returns the next state, or `undefined` when the change is stale or changes nothing, so
 * duplicate and out-of-order deliveries are no-ops rather than rollbacks.
 */
export const applyChange = (current: WorkItem | undefined, change: ItemChange): WorkItem | undefined => {
  const candidate = next(current, change);
  if (!candidate || !current) return candidate;
  const { version: _a, ...before } = current;
  const { version: _b, ...after } = candidate;
  return deepEqual(before, after) ? undefined : candidate;
};
