import { type AlertDraft, AlertSettings, SUBJECT_KINDS, evaluateAlerts } from '../core/alerts.ts';
import { confirmedIncoming } from '../core/dependencies.ts';
import { blockingEdgesOf, findCycles } from '../core/graph.ts';
import { itemIdForRef, randomId } from '../core/ids.ts';
import type { Clock, Logger } from '../core/ports.ts';
import { type WorkItem, isClosed } from '../core/work-item.ts';
import { alertsOfRows, raiseAlert, resolveAlert } from '../store/alerts.ts';
import type { Db } from '../store/db.ts';
import { type DependencyState, getSettingsRecord, loadItemPartition, saveDependencyState } from '../store/dependency-state.ts';
import { exploreGraph } from '../store/graph.ts';
import { listTenantIds } from '../store/hub-stats.ts';
import { getItems } from '../store/item-queries.ts';
import { listOpenItems } from '../store/open-items.ts';
import { type SweepLease, acquireSweepLease, recordSweepProgress, releaseSweepLease } from '../store/sweep-lease.ts';
import { readAllWipRows } from '../store/wip.ts';
import { evaluateWipSubject, repairItemWip, sweepTenantWip } from './wip-alerts.ts';
import { mailboxSlas, requestSlaHoursOf } from './request-slas.ts';
import type { WipSubject } from '../core/wip.ts';

/*
 * Dependency state and alerts, kept current without transactions:
 * - after every change the processor applies to an item (and on every re-run of one), the item and
 *   each item linked with it in either direction are evaluated: the blocked flag and the alerts of a
 *   dependent follow its blockers, whichever side changed;
 * - evaluating an item reads its partition (the item, its reverse edges, its dependency state and
 *   its alerts) and its neighbours with strongly consistent reads, runs the pure rules, raises and
 *   resolves alerts (each a single-record conditional write carrying its event), and only then
 *   writes the dependency state, conditionally on its revision: a crash in between re-detects the
 *   same transitions, which name the same alert ids, so nothing is lost or duplicated;
 * - the sweep re-evaluates every open item with the clock, for the time-based rules, and repairs
 *   whatever a crash left behind.
 */

export interface AlertDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  /** told which records got new events, so a local publisher can drain them at once */
  onEvents?: (tenantId: string, itemId: string, sk: string) => void;
}

/** Cycle detection walks at most this far upstream from an item that has both blockers and dependents. */
const CYCLE_DEPTH = 10;
const CYCLE_NODES = 50;
/** Neighbours re-evaluated after a change; the sweep catches the rest of a very connected item. */
const MAX_NEIGHBOURS = 100;
const MAX_STATE_RETRIES = 10;

export const loadAlertSettings = async (db: Db, tenantId: string): Promise<AlertSettings> => {
  const stored = await getSettingsRecord(db, tenantId);
  const parsed = AlertSettings.safeParse(stored ?? {});
  return parsed.success ? parsed.data : AlertSettings.parse({});
};

const isOpenItem = (item: WorkItem): boolean => !item.deleted && !isClosed(item.status);

/** Ids of every item linked with `item` in either direction (the ones to re-evaluate when it changes). */
const neighboursOf = (item: WorkItem, incoming: readonly { fromId: string }[]): string[] =>
  [...new Set([...item.links.map((l) => itemIdForRef(l.target)), ...incoming.map((e) => e.fromId)])].filter((id) => id !== item.id);

/**
 * Evaluates one item: its blocked flag, its alerts, the cycles it is in. Idempotent; returns the
 * ids of its neighbours.
 */
const evaluateItem = async (deps: AlertDeps, tenantId: string, itemId: string, settings?: AlertSettings): Promise<string[]> =>
  (await evaluate(deps, tenantId, itemId, settings ?? (await loadAlertSettings(deps.db, tenantId)))).neighbourIds;

/** {@link evaluateItem}, also answering the item as it was read (undefined when not indexed). */
const evaluate = async (
  deps: AlertDeps,
  tenantId: string,
  itemId: string,
  thresholds: AlertSettings,
): Promise<{ neighbourIds: string[]; item: WorkItem | undefined }> => {
  const { db } = deps;
  for (let attempt = 0; attempt < MAX_STATE_RETRIES; attempt++) {
    const now = deps.clock();
    const partition = await loadItemPartition(db, tenantId, itemId);
    const { item, incoming, state } = partition;
    if (!item) return { neighbourIds: [], item };
    const neighbourIds = neighboursOf(item, incoming);
    const related = await getItems(db, tenantId, neighbourIds, { consistent: true });
    const incomingLinks = confirmedIncoming(item.ref, incoming, related);
    const edges = blockingEdgesOf(item, incomingLinks);
    const blockers = edges.filter((e) => e.to === item.id).map((e) => related.get(e.from)).filter((b): b is WorkItem => b !== undefined);
    const linked = [...item.links, ...incomingLinks]
      .map((l) => ({ item: related.get(itemIdForRef(l.target)), type: l.type as string }))
      .filter((l): l is { item: WorkItem; type: string } => l.item !== undefined);

    // A cycle through an item needs an edge in and an edge out of it among open items.
    let cycles: string[][] = [];
    const members = new Map<string, WorkItem>([[item.id, item], ...related]);
    const openEdges = edges.filter((e) => {
      const other = related.get(e.from === item.id ? e.to : e.from);
      return other !== undefined && isOpenItem(other);
    });
    if (isOpenItem(item) && openEdges.some((e) => e.to === item.id) && openEdges.some((e) => e.from === item.id)) {
      const graph = await exploreGraph(db, tenantId, item.ref, { depth: CYCLE_DEPTH, direction: 'up', maxNodes: CYCLE_NODES });
      const open = new Set([...graph.nodes.values()].filter((n) => n.item && isOpenItem(n.item)).map((n) => n.id));
      for (const node of graph.nodes.values()) if (node.item) members.set(node.id, node.item);
      cycles = findCycles(
        [...open],
        graph.edges.filter((e) => open.has(e.from) && open.has(e.to)),
      ).filter((c) => c.includes(item.id));
    }

    const requestSlaHours = requestSlaHoursOf(await mailboxSlas(db, tenantId), item);
    const evaluation = evaluateAlerts({
      subject: item,
      ...(requestSlaHours === undefined ? {} : { requestSlaHours }),
      blockers,
      linked,
      hasAnyLink: item.links.length > 0 || incomingLinks.length > 0,
      previousOpenBlockers: state.openBlockers,
      cycles,
      members,
      settings: thresholds,
      now,
    });

    // Raise what holds; resolve this item's alerts that stopped holding.
    const raised = new Set<string>();
    for (const alert of evaluation.alerts) {
      raised.add(alert.id);
      await raise(deps, tenantId, alert, now);
    }
    for (const alert of alertsOfRows(partition.alertRows)) {
      // A cycle alert in its subject's partition: the subject is a member, so a cycle not found through it is gone.
      const resolvable = SUBJECT_KINDS.has(alert.kind) || alert.kind === 'dependency_cycle';
      // Resolved already but still open in the state: a crash came after the alert's write and before
      // the state's, perhaps before the event's log row too. Resolving it again logs what it kept.
      const resolving = alert.state === 'open' || (state.openAlerts ?? []).includes(alert.id);
      if (resolving && resolvable && !raised.has(alert.id)) {
        if (await resolveAlert(db, tenantId, alert.subject.id, alert.id, now)) deps.onEvents?.(tenantId, alert.subject.id, `ALERT#${alert.id}`);
      }
    }
    const cycleAlerts = evaluation.alerts.filter((a) => a.kind === 'dependency_cycle').map((a) => ({ id: a.id, subjectId: a.subject.id }));
    const current = new Set(cycleAlerts.map((c) => c.id));
    for (const gone of state.cycleAlerts.filter((c) => !current.has(c.id))) {
      if (await resolveAlert(db, tenantId, gone.subjectId, gone.id, now)) deps.onEvents?.(tenantId, gone.subjectId, `ALERT#${gone.id}`);
    }

    const open = isOpenItem(item);
    const next = {
      blocked: open && evaluation.openBlockers.length > 0,
      openBlockers: evaluation.openBlockers,
      cycleAlerts,
      openAlerts: openAlertsOf(item, evaluation.alerts),
    };
    if (sameDependencyState(state, next)) return { neighbourIds, item };
    if (await saveDependencyState(db, tenantId, item, state, next, now)) return { neighbourIds, item };
  }
  throw new Error(`Gave up evaluating ${itemId} after ${MAX_STATE_RETRIES} write conflicts`);
};

/** The alerts of an evaluation that stay open in the subject's own partition (store/dependency-state.ts `openAlerts`). */
export const openAlertsOf = (item: WorkItem, alerts: readonly AlertDraft[]): string[] =>
  alerts
    .filter((a) => !a.notice && a.subject.id === item.id && SUBJECT_KINDS.has(a.kind))
    .map((a) => a.id)
    .sort();

/** Whether `next` is the state already stored (a missing row is the empty state), so nothing is written. */
export const sameDependencyState = (state: DependencyState, next: Omit<DependencyState, 'rev'>): boolean =>
  state.blocked === next.blocked &&
  JSON.stringify(state.openBlockers) === JSON.stringify(next.openBlockers) &&
  JSON.stringify(state.cycleAlerts) === JSON.stringify(next.cycleAlerts) &&
  JSON.stringify(state.openAlerts) === JSON.stringify(next.openAlerts);

const raise = async (deps: AlertDeps, tenantId: string, alert: AlertDraft, now: Date): Promise<void> => {
  if (await raiseAlert(deps.db, tenantId, alert, now)) deps.onEvents?.(tenantId, alert.subject.id, `ALERT#${alert.id}`);
};

/**
 * After a change to an item: the item and everything linked with it, in either direction, now or
 * before the change (`before`): the other end of a removed link must learn it is no longer blocked.
 * Then the people and teams whose work in progress the change moved (`wipMoved`: the subjects
 * whose membership rows the writer just changed).
 */
export const evaluateAround = async (
  deps: AlertDeps,
  tenantId: string,
  itemId: string,
  change: { before?: WorkItem; wipMoved?: readonly WipSubject[] } = {},
): Promise<void> => {
  const settings = await loadAlertSettings(deps.db, tenantId);
  await evaluateChanged(deps, tenantId, [{ itemId, ...(change.before ? { before: change.before } : {}) }], settings);
  for (const subject of change.wipMoved ?? []) await evaluateWipSubject(deps, tenantId, subject.key, settings, { name: subject.name });
};

/**
 * {@link evaluateAround} for the items a batch changed (without their work in progress, which the
 * batch evaluates per subject): each changed item, then each item linked with any of them, now or
 * before, once, however many of the batch's items it is linked with (an epic and its stories).
 * `linked`: items to evaluate too, alone (linked with items the batch evaluated itself).
 */
export const evaluateChanged = async (
  deps: AlertDeps,
  tenantId: string,
  changed: readonly { itemId: string; before?: WorkItem }[],
  settings: AlertSettings,
  linked: readonly string[] = [],
): Promise<void> => {
  const done = new Set(changed.map((c) => c.itemId));
  const around = new Set<string>(linked.filter((id) => !done.has(id)));
  for (const { itemId, before } of changed) {
    const { neighbourIds } = await evaluate(deps, tenantId, itemId, settings);
    const formerly = (before?.links ?? []).map((l) => itemIdForRef(l.target));
    for (const id of [...neighbours(neighbourIds, formerly, itemId)]) if (!done.has(id)) around.add(id);
  }
  for (const id of around) await evaluateItem(deps, tenantId, id, settings);
};

/** The items to evaluate after a change to `itemId`: linked now or before, at most MAX_NEIGHBOURS (the sweep catches the rest). */
const neighbours = (now: readonly string[], formerly: readonly string[], itemId: string): string[] =>
  [...new Set([...now, ...formerly])].filter((id) => id !== itemId).slice(0, MAX_NEIGHBOURS);

export interface AlertSweepReport {
  evaluated: number;
  errors: number;
  /** people and teams whose work in progress was checked against their limit */
  wipSubjects: number;
  /** the cursor a previous run left (it stopped at its deadline, or died) */
  resumedFrom?: string;
  /** another run holds the lease: this one did nothing */
  skipped?: 'busy';
  /** this run reached the end of the list (the next run starts a new round) */
  complete: boolean;
}

export interface AlertSweepOptions {
  /** items evaluated at most in this run; the next run resumes after the last one */
  limit?: number;
  /** epoch ms after which no new item is started (the function's own timeout, minus a margin) */
  deadline?: number;
  /** who runs it (default: a fresh id per run) */
  owner?: string;
  /** how long the lease lasts without progress before another run may take over (default 5 min) */
  leaseMs?: number;
  /** items read and recorded per cursor step (default 25) */
  pageSize?: number;
}

const SWEEP_NAME = 'alerts';

/**
 * The scheduled alert sweep: re-evaluates every open item of every tenant (store/open-items.ts) with the clock,
 * so time-based conditions (stale or overdue blockers, unowned priorities, PRs without ticket)
 * open and clear, checks every person's and team's work in progress against today's limits, and
 * repairs derived state a crash left behind. Resumable and exclusive (store/sweep-lease.ts): one
 * run at a time holds the lease, records its cursor after every page, and a run that stopped (its
 * deadline, its limit, a crash) is continued by the next one after that cursor.
 */
export const sweepAlerts = async (deps: AlertDeps, options: AlertSweepOptions = {}): Promise<AlertSweepReport> => {
  const { db, log } = deps;
  const owner = options.owner ?? randomId('swp');
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const limit = options.limit ?? 5000;
  const pageSize = options.pageSize ?? 25;
  let lease: SweepLease | undefined = await acquireSweepLease(db, SWEEP_NAME, owner, deps.clock(), leaseMs);
  const report: AlertSweepReport = { evaluated: 0, errors: 0, wipSubjects: 0, complete: false };
  if (!lease) {
    log.info('alert sweep: another run holds the lease, standing down', { owner });
    return { ...report, skipped: 'busy' };
  }
  if (lease.cursor) report.resumedFrom = lease.cursor;
  const stop = () => report.evaluated >= limit || (options.deadline !== undefined && Date.now() > options.deadline);
  const settings = new Map<string, AlertSettings>();
  const tenants = new Map<string, Set<string>>();
  try {
    const tenantIds = await listTenantIds(db);
    while (lease && !stop()) {
      const want = Math.min(pageSize, limit - report.evaluated);
      const page = await listOpenItems(db, tenantIds, want, lease.cursor);
      let done: string | undefined;
      for (const { tenantId, itemId, key } of page) {
        if (stop()) break;
        try {
          if (!settings.has(tenantId)) settings.set(tenantId, await loadAlertSettings(db, tenantId));
          const thresholds = settings.get(tenantId)!;
          // Once per tenant and run: every person and team against its limit.
          if (!tenants.has(tenantId)) {
            const rows = await readAllWipRows(db, tenantId);
            tenants.set(tenantId, new Set(rows.map((r) => `${r.subjectKey}#${r.itemId}`)));
            report.wipSubjects += await sweepTenantWip(deps, tenantId, thresholds, { rows, confirm: true });
          }
          const { item } = await evaluate(deps, tenantId, itemId, thresholds);
          if (item) await repairItemWip(deps, tenantId, item, tenants.get(tenantId)!, thresholds);
        } catch (error) {
          report.errors++;
          log.warn('alert sweep: evaluation failed, the next round retries it', { tenantId, itemId, error: String(error) });
        }
        report.evaluated++;
        done = key;
      }
      const roundDone = page.length < want && done === page.at(-1)?.key;
      if (done === undefined && !roundDone) break;
      lease = await recordSweepProgress(db, lease, roundDone ? undefined : done, deps.clock(), leaseMs);
      if (!lease) log.warn('alert sweep: the lease was taken over, stopping', { owner });
      if (roundDone) {
        report.complete = true;
        break;
      }
    }
  } finally {
    if (lease) await releaseSweepLease(db, lease);
  }
  log.info('alert sweep done', { ...report });
  return report;
};
