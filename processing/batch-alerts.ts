import { type AlertDraft, type AlertSettings, evaluateAlerts } from '../core/alerts.ts';
import { confirmedIncoming } from '../core/dependencies.ts';
import { alertEvent } from '../core/events.ts';
import { blockingEdgesOf } from '../core/graph.ts';
import { itemIdForRef } from '../core/ids.ts';
import { forEachBounded } from '../core/limit-concurrency.ts';
import { type WorkItem, isClosed } from '../core/work-item.ts';
import { openAlertsOf, sameDependencyState } from '../pipeline/alerts.ts';
import { mailboxSlas, requestSlaHoursOf } from '../pipeline/request-slas.ts';
import { type AlertRecord, loadAlertRecords, raisedAlert, resolvedAlert, saveAlert } from '../store/alerts.ts';
import type { WriteRequest } from '../store/batch.ts';
import type { Db } from '../store/db.ts';
import { type DependencyState, EMPTY_DEPENDENCY_STATE, dependencyStateRow, getDependencyStates } from '../store/dependency-state.ts';
import { type LoggedEvent, unlogged } from '../store/event-log.ts';
import { getItems } from '../store/item-queries.ts';

/**
 * Alerts and dependency state of a batch's items that nothing else links to (no inbound marker, see
 * store/items.ts): most new and updated work. Such an item's partition holds no reverse edge, and
 * its dependency state lists the alerts it has open (`openAlerts`), so everything its evaluation
 * reads is known by key: its state, the items it links to and its alert records are read for the
 * whole batch with BatchGetItem instead of a query and reads per item. The rules are the same pure
 * ones the one-by-one evaluation runs (pipeline/alerts.ts, core/alerts.ts).
 *
 * Handed back for the one-by-one evaluation: an item whose state was written before `openAlerts`
 * was kept, one in a cycle or that could close one (blocking edges in and out), one whose blocked
 * flag changes (its counter follows in steps of their own), and one whose alert write lost a race.
 */
export interface BatchEvaluation {
  /** dependency state rows to write with the batch (unconditional: the batch read them just before) */
  writes: WriteRequest[];
  /** events of alert transitions (and earlier ones a crash kept from the log), to log with the batch */
  logged: LoggedEvent[];
  handBack: WorkItem[];
}

/** Alert writes sent at once, as processing/write.ts sends item writes. */
const ALERT_WRITES_IN_FLIGHT = 16;

const isOpenItem = (item: WorkItem): boolean => !item.deleted && !isClosed(item.status);

export const evaluateBatch = async (db: Db, tenantId: string, items: readonly WorkItem[], settings: AlertSettings, now: Date): Promise<BatchEvaluation> => {
  const out: BatchEvaluation = { writes: [], logged: [], handBack: [] };
  if (items.length === 0) return out;
  const targetsOf = (item: WorkItem) => [...new Set(item.links.map((l) => itemIdForRef(l.target)))].filter((id) => id !== item.id);
  const [states, related, slas] = await Promise.all([
    getDependencyStates(db, tenantId, items.map((i) => i.id)),
    getItems(db, tenantId, [...new Set(items.flatMap(targetsOf))], { consistent: true }),
    mailboxSlas(db, tenantId),
  ]);

  const evaluations: { item: WorkItem; state: DependencyState; drafts: AlertDraft[]; next: ReturnType<typeof nextState> }[] = [];
  for (const item of items) {
    const state = states.get(item.id) ?? EMPTY_DEPENDENCY_STATE;
    if ((state.rev > 0 && !state.openAlerts) || state.cycleAlerts.length > 0 || state.countPending) {
      out.handBack.push(item);
      continue;
    }
    const edges = blockingEdgesOf(item, confirmedIncoming(item.ref, [], related));
    const openOther = (id: string) => related.get(id) !== undefined && isOpenItem(related.get(id)!);
    const into = edges.some((e) => e.to === item.id && openOther(e.from));
    const outOf = edges.some((e) => e.from === item.id && openOther(e.to));
    if (isOpenItem(item) && into && outOf) {
      out.handBack.push(item);
      continue;
    }
    const requestSlaHours = requestSlaHoursOf(slas, item);
    const evaluation = evaluateAlerts({
      subject: item,
      ...(requestSlaHours === undefined ? {} : { requestSlaHours }),
      blockers: edges.filter((e) => e.to === item.id).flatMap((e) => related.get(e.from) ?? []),
      linked: item.links.flatMap((l) => {
        const other = related.get(itemIdForRef(l.target));
        return other ? [{ item: other, type: l.type as string }] : [];
      }),
      hasAnyLink: item.links.length > 0,
      previousOpenBlockers: state.openBlockers,
      cycles: [],
      members: new Map([[item.id, item], ...related]),
      settings,
      now,
    });
    const next = nextState(item, evaluation.alerts, evaluation.openBlockers);
    if (next.blocked !== state.blocked) {
      out.handBack.push(item);
      continue;
    }
    evaluations.push({ item, state, drafts: evaluation.alerts, next });
  }

  // The alert records each evaluation may change: what holds now, and what was open.
  const wanted = evaluations.flatMap(({ item, state, drafts }) => [
    ...drafts.map((d) => ({ subjectId: d.subject.id, alertId: d.id })),
    ...(state.openAlerts ?? []).map((id) => ({ subjectId: item.id, alertId: id })),
  ]);
  const records = await loadAlertRecords(db, tenantId, wanted);
  const missing = new Set((await unlogged(db, [...records.values()].flatMap((r) => r.pending))).map((p) => p.cursor));
  const carriedOf = (record: AlertRecord) => record.pending.filter((p) => missing.has(p.cursor));
  const time = now.toISOString();

  // Items apart, at once (each one's transitions in order): each transition is a conditional write.
  const outcomes = new Map<WorkItem, { logged: LoggedEvent[]; lost: boolean }>();
  await forEachBounded(evaluations, ALERT_WRITES_IN_FLIGHT, async ({ item, state, drafts }) => {
    const holding = new Set(drafts.map((d) => d.id));
    const transitions = [
      ...drafts.map((draft) => ({ record: records.get(draft.id)!, next: raisedAlert(records.get(draft.id)!.alert, draft, time), type: 'work.alert.raised' as const })),
      ...(state.openAlerts ?? [])
        .filter((id) => !holding.has(id))
        .map((id) => ({ record: records.get(id)!, next: resolvedAlert(records.get(id)!.alert, time), type: 'work.alert.resolved' as const })),
    ];
    const outcome = { logged: [] as LoggedEvent[], lost: false };
    outcomes.set(item, outcome);
    for (const { record, next: alert, type } of transitions) {
      if (!alert) {
        outcome.logged.push(...carriedOf(record));
        continue;
      }
      const entries = await saveAlert(db, record, alert, alertEvent(type, alert, { tenantId, time }), { carried: carriedOf(record), deferLog: true });
      if (entries) outcome.logged.push(...entries);
      else outcome.lost = true;
    }
  });
  for (const { item, state, next } of evaluations) {
    const { logged, lost } = outcomes.get(item)!;
    out.logged.push(...logged);
    if (lost) out.handBack.push(item);
    else if (!sameDependencyState(state, next)) out.writes.push({ PutRequest: { Item: dependencyStateRow(tenantId, item, state, next, now) } });
  }
  return out;
};

const nextState = (item: WorkItem, alerts: readonly AlertDraft[], openBlockers: string[]) => {
  const open = isOpenItem(item);
  return { blocked: open && openBlockers.length > 0, openBlockers, cycleAlerts: [], openAlerts: openAlertsOf(item, alerts) };
};

