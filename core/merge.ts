import type { DevelopmentChange, ItemChange, LinkChange, UpsertChange } from './changes.ts';
import { categorize } from './category.ts';
import { mergeDevelopment } from './development.ts';
import { deepEqual } from './equal.ts';
import { itemIdForRef } from './ids.ts';
import {
  type Link,
  type LinkOrigin,
  type LinkStatement,
  type OrderedBy,
  type OriginStatement,
  type StatusCategory,
  type WorkItem,
  isClosed,
  isCommentOrigin,
} from './work-item.ts';

const STARTED: ReadonlySet<StatusCategory> = new Set(['in_progress', 'in_review']);

const compareTimes = (a: string, b: string): number => Date.parse(a) - Date.parse(b);

/** The kept dates (`activityAt`, `startedAt`, `closedAt`): the latest or earliest value, as read. */
const later = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : compareTimes(a, b) >= 0 ? a : b;

const earliest = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : compareTimes(a, b) <= 0 ? a : b;

/** A time that orders a change against the state the index holds, and whether the tool wrote it with a zone. */
interface OrderingTime {
  at: string;
  zoned: boolean;
}

/** Zones run from UTC−12 to UTC+14: a local time read as UTC is off by at most this much. */
const UNZONED_WINDOW_MS = 14 * 60 * 60 * 1000;

/**
 * The one order of ordering times, for every kind of change (observations, deletions, link
 * statements): negative when `a` is older than `b`, positive when newer, 0 when neither. Times
 * compare as read, except that a time written without a zone (read as UTC) never outranks a zoned
 * one: when exactly one of the two is unzoned and they are at most 14 hours apart, the zoned one is
 * the newer, whichever reads later. That is comparing an unzoned time as if it were 14 hours
 * earlier (and losing a tie to a zoned one), a total order, so deliveries end in the same state
 * whatever order they arrive in. Two unzoned times come from the same server's clock and compare as
 * read; a zoned and an unzoned one are never equal.
 */
const compareOrderingTimes = (a: OrderingTime, b: OrderingTime): number => {
  const gap = compareTimes(a.at, b.at);
  if (a.zoned === b.zoned || Math.abs(gap) > UNZONED_WINDOW_MS) return gap;
  return a.zoned ? 1 : -1;
};

/** The ordering time of the observation the item holds (`orderedBy` absent: zoned, as every tool but Jira writes). */
const itemTime = (item: Pick<WorkItem, 'updatedAt' | 'orderedBy'>): OrderingTime => ({ at: item.updatedAt, zoned: item.orderedBy?.zoned !== false });

/** The ordering time of an observation, a deletion or a link change, by the `orderedBy` it carries. */
const changeTime = (at: string, orderedBy: OrderedBy | undefined): OrderingTime => ({ at, zoned: orderedBy?.zoned !== false });

/** The ordering time of a logged link statement or a tombstone, which keep `zoned: false` when unzoned. */
const recordedTime = (record: { at: string; zoned?: false }): OrderingTime => ({ at: record.at, zoned: record.zoned !== false });

/** `zoned: false` to record on a statement or a tombstone made from a change with an unzoned time. */
const unzonedMark = (orderedBy: OrderedBy | undefined): { zoned?: false } => (orderedBy?.zoned === false ? { zoned: false } : {});

/** Whether an observation is older than the state the index holds (an out-of-order delivery that must not roll it back). */
const isStaleObservation = (current: WorkItem, change: UpsertChange): boolean =>
  compareOrderingTimes(changeTime(change.item.updatedAt, change.orderedBy), itemTime(current)) < 0;

/** `createdAt` when the tool did not say: the earliest delivery of the item seen, whatever order they arrive in. */
const createdAtOf = (current: WorkItem | undefined, change: UpsertChange): string =>
  change.createdAtUnknown && current ? earliest(current.createdAt, change.item.createdAt)! : change.item.createdAt;

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

/*
 * Link changes (Jira's issuelink_created/deleted) are statements about one link at a time: "A blocks B
 * since t", "A no longer blocks B since t". The item keeps the latest statement per (type, target)
 * in `linkLog` (per (type, target, origin) for a person's manual links, which a tool's statements
 * never touch), so the end state does not depend on the order deliveries arrive in:
 * - a statement older than the one logged for its link changes nothing (a late removal cannot drop a
 *   newer addition, and a late addition cannot revive a link removed after it);
 * - a removal is logged even when the item does not hold the link (its addition may still arrive);
 * - an addition of a link the item already holds changes nothing and is not logged, unless the tool
 *   made it (see below);
 * - an upsert replaces the links of its authoritative origins by what it observed, then replays the
 *   statements newer than itself on them;
 * - a statement the item's own observations also show (`reflected`) is superseded by any observation
 *   at least as new, and leaves the log once such an observation is applied.
 */
const statementKey = (s: Pick<LinkStatement, 'type' | 'target' | 'origin'>): string =>
  s.origin ? `${s.type} ${s.target} ${s.origin}` : `${s.type} ${s.target}`;

/** Origins whose links only their own statements change: a person's manual links, and each comment's mentions. */
const isStatedApart = (origin: LinkOrigin): boolean => origin === 'manual' || isCommentOrigin(origin);

/**
 * Whether a statement is about this link. A statement with an origin (a manual link's) concerns
 * only the link of that origin; a tool's statement concerns the link of every origin but `manual`
 * and the comments': the link a person added stays until that person's statement removes it, and a
 * comment's mention until the comment no longer names it.
 */
const covers = (s: Pick<LinkStatement, 'type' | 'target' | 'origin'>, link: Link): boolean =>
  s.type === link.type && s.target === link.target && (s.origin ? link.origin === s.origin : !isStatedApart(link.origin));

/** Whether `a` is newer than `b`. On a tie a removal wins, then the more confident addition: one answer in any order. */
const supersedes = (a: LinkStatement, b: LinkStatement | undefined): boolean => {
  if (!b) return true;
  const byTime = compareOrderingTimes(recordedTime(a), recordedTime(b));
  if (byTime !== 0) return byTime > 0;
  if (!a.link !== !b.link) return !a.link;
  return (a.link?.confidence ?? 0) > (b.link?.confidence ?? 0);
};

const sortLog = (log: Iterable<LinkStatement>): LinkStatement[] | undefined => {
  const sorted = [...log].sort((a, b) => statementKey(a).localeCompare(statementKey(b)));
  return sorted.length > 0 ? sorted : undefined;
};

/** Replays on freshly observed links the logged statements an observation at `observedAt` could not know. */
const replayNewerStatements = (
  links: Link[],
  log: readonly LinkStatement[],
  observedAt: OrderingTime,
  authoritative: ReadonlySet<LinkOrigin>,
): Link[] => {
  let out = links;
  for (const statement of log) {
    // A statement the observations reflect loses a tie to the observation; any other wins it.
    const order = compareOrderingTimes(recordedTime(statement), observedAt);
    if (order < 0 || (order === 0 && statement.reflected)) continue;
    if (statement.link) {
      if (authoritative.has(statement.link.origin)) out = [...out, statement.link];
    } else {
      // Links of other origins were removed when the statement was applied, and the upsert kept them out.
      out = out.filter((l) => !covers(statement, l) || !authoritative.has(l.origin));
    }
  }
  return out;
};

const applyLinkChange = (current: WorkItem, change: LinkChange): WorkItem | undefined => {
  const reflected = change.reflectedInItem === true;
  if (reflected && compareOrderingTimes(changeTime(change.at, change.orderedBy), itemTime(current)) <= 0) return undefined;
  const log = new Map((current.linkLog ?? []).map((s) => [statementKey(s), s]));
  let links = current.links;
  const marker = {
    ...(reflected ? { reflected: true } : {}),
    ...(change.origin ? { origin: change.origin } : {}),
    ...unzonedMark(change.orderedBy),
  };
  for (const removal of change.remove) {
    const statement: LinkStatement = { type: removal.type, target: removal.target, at: change.at, ...marker };
    if (!supersedes(statement, log.get(statementKey(statement)))) continue;
    log.set(statementKey(statement), statement);
    links = links.filter((l) => !covers(statement, l));
  }
  for (const link of change.add) {
    const statement: LinkStatement = { type: link.type, target: link.target, at: change.at, link, ...marker };
    const logged = log.get(statementKey(statement));
    if (!supersedes(statement, logged)) continue;
    // A tool cannot add a link it already has: its addition means a removal happened in between, even
    // one not delivered yet, so it is logged. Anyone else adding a link the item holds changes nothing.
    const held = links.some((l) => linkKey(l) === linkKey(link) && l.confidence >= link.confidence);
    if (held && !reflected && logged?.link !== undefined) continue;
    if (held && !reflected && !logged) continue;
    log.set(statementKey(statement), statement);
    links = [...links, link];
  }
  return { ...current, links: sortLinks(links), linkLog: sortLog(log.values()), version: current.version + 1 };
};

/*
 * A comment states its links whole (`complete` link changes): "comment C names X and Y since t",
 * then after an edit "C names Y since t2", after its deletion "C names nothing since t3". The item
 * keeps the latest statement's time per origin in `originLog` and holds exactly the links that
 * statement made, so the end state does not depend on the order deliveries arrive in: an older
 * statement changes nothing, and a newer one replaces the origin's links, leaving every other
 * origin's alone (the issue's own mentions, another comment naming the same item).
 */

/** Which of two statements of an origin made at the same time wins: the one naming less, then the first by key (a deletion names nothing). */
const winsTie = (stated: readonly Link[], held: readonly Link[]): boolean => {
  if (stated.length !== held.length) return stated.length < held.length;
  const keys = (links: readonly Link[]) => links.map((l) => `${linkKey(l)} ${l.confidence}`).sort().join('\n');
  return keys(stated) < keys(held);
};

const applyOriginStatement = (current: WorkItem, change: LinkChange & { origin: LinkOrigin }): WorkItem | undefined => {
  const { origin } = change;
  const at = changeTime(change.at, change.orderedBy);
  const log = current.originLog ?? [];
  const logged = log.find((s) => s.origin === origin);
  const held = current.links.filter((l) => l.origin === origin);
  // An item never links to itself (a comment found by its issue's id may name the key).
  const stated = sortLinks(change.add.filter((link) => link.target !== current.ref).map((link) => ({ ...link, origin })));
  if (logged) {
    const order = compareOrderingTimes(at, recordedTime(logged));
    if (order < 0 || (order === 0 && !winsTie(stated, held))) return undefined;
  }
  const statement: OriginStatement = { origin, at: change.at, ...unzonedMark(change.orderedBy) };
  const originLog = [...log.filter((s) => s.origin !== origin), statement].sort((a, b) => a.origin.localeCompare(b.origin));
  const links = sortLinks([...current.links.filter((l) => l.origin !== origin), ...stated]);
  return { ...current, links, originLog, version: current.version + 1 };
};

/** Links to a provisional ref now name what it resolved to; an item never links to itself. */
const retarget = (current: WorkItem, from: string, to: string): WorkItem => {
  const rename = <T extends { target: string }>(value: T): T => (value.target === from ? { ...value, target: to } : value);
  const links = current.links.map(rename).filter((l) => l.target !== current.ref);
  const log = new Map<string, LinkStatement>();
  for (const entry of current.linkLog ?? []) {
    const renamed = rename({ ...entry, ...(entry.link ? { link: rename(entry.link) } : {}) });
    if (renamed.target === current.ref) continue;
    if (supersedes(renamed, log.get(statementKey(renamed)))) log.set(statementKey(renamed), renamed);
  }
  return { ...current, links: sortLinks(links), linkLog: sortLog(log.values()), version: current.version + 1 };
};

/**
 * Commits and branches that name the item (see `core/development.ts`). A push is development
 * activity on the item: `activityAt` moves to it when it changed something.
 */
const applyDevelopmentChange = (current: WorkItem, change: DevelopmentChange): WorkItem => {
  const development = mergeDevelopment(current.development, change);
  if (deepEqual(development, current.development)) return current;
  return { ...current, development, activityAt: later(current.activityAt, change.at) ?? current.activityAt, version: current.version + 1 };
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
  const authoritative = new Set(change.linkOrigins);
  // Links the observation is not authoritative for only ever add up, so their age does not matter.
  const additive = observed.links.filter((l) => !authoritative.has(l.origin));
  return {
    ...current,
    ...earliestFieldsOf(current, change),
    ...(change.createdAtUnknown ? { createdAt: createdAtOf(current, change) } : {}),
    links: additive.length > 0 ? sortLinks([...current.links, ...additive]) : current.links,
    startedAt: startedAtOf(current, observed),
    closedAt,
    activityAt: later(current.activityAt, change.activityAt) ?? current.activityAt,
    version: current.version + 1,
  };
};

/**
 * The `earliestFields` of an observation, and `createdAt`, taken from whichever of the index and
 * the observation saw the item earlier. Nothing when the observation declares no such fields.
 */
const earliestFieldsOf = (current: WorkItem | undefined, change: UpsertChange): Partial<WorkItem> => {
  const fields = change.earliestFields;
  if (!current || !fields?.length) return {};
  const observed = change.item;
  const observedFirst = compareTimes(observed.createdAt, current.createdAt) < 0;
  const [first, other] = observedFirst ? [observed, current] : [current, observed];
  const taken: Partial<WorkItem> = { createdAt: first.createdAt };
  // An absent value in the earliest observation is filled from the other one (`team`, `url`).
  for (const field of fields) Object.assign(taken, { [field]: first[field] ?? other[field] });
  return taken;
};

const upsert = (current: WorkItem | undefined, change: UpsertChange): WorkItem | undefined => {
  const observed = change.item;
  const observedAt = changeTime(observed.updatedAt, change.orderedBy);
  if (current?.deleted && compareOrderingTimes(observedAt, recordedTime(current.deleted)) <= 0) return undefined;
  if (current && isStaleObservation(current, change)) return applyHistory(current, change);
  const closed = isClosed(observed.status);
  const authoritative = new Set(change.linkOrigins);
  const log = current?.linkLog ?? [];
  const observedLinks = [...(current?.links ?? []).filter((l) => !authoritative.has(l.origin)), ...observed.links];
  return {
    ...observed,
    id: itemIdForRef(observed.ref),
    category: observed.category ?? categorize(observed),
    team: observed.team ?? current?.team,
    links: sortLinks(replayNewerStatements(observedLinks, log, observedAt, authoritative)),
    linkLog: sortLog(log.filter((s) => !s.reflected || compareOrderingTimes(recordedTime(s), observedAt) > 0)),
    startedAt: startedAtOf(current, observed),
    closedAt: closed ? (observed.closedAt ?? current?.closedAt ?? observed.updatedAt) : undefined,
    activityAt: later(later(current?.activityAt, change.activityAt), observed.updatedAt) ?? observed.updatedAt,
    deleted: undefined,
    createdAt: createdAtOf(current, change),
    ...(change.orderedBy ? { orderedBy: change.orderedBy } : {}),
    // What pushes, branches and comments told about the item: no observation of the item itself carries it.
    ...(current?.development ? { development: current.development } : {}),
    ...(current?.originLog ? { originLog: current.originLog } : {}),
    ...earliestFieldsOf(current, change),
    version: (current?.version ?? 0) + 1,
  };
};

const next = (current: WorkItem | undefined, change: ItemChange): WorkItem | undefined => {
  if (change.op === 'upsert') return upsert(current, change);
  // Activity, link, retarget, delete and development changes amend an item the index already holds.
  if (!current) return undefined;
  const version = current.version + 1;
  switch (change.op) {
    case 'activity':
      return { ...current, activityAt: later(current.activityAt, change.at) ?? current.activityAt, version };
    case 'link':
      return change.complete && change.origin ? applyOriginStatement(current, { ...change, origin: change.origin }) : applyLinkChange(current, change);
    case 'retarget':
      return retarget(current, change.from, change.to);
    case 'development':
      return applyDevelopmentChange(current, change);
    case 'delete':
      if (current.deleted || compareOrderingTimes(changeTime(change.at, change.orderedBy), itemTime(current)) < 0) return undefined;
      return {
        ...current,
        deleted: { at: change.at, reason: change.reason, movedTo: change.movedTo, ...unzonedMark(change.orderedBy) },
        version,
      };
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
