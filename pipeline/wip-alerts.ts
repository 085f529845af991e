import type { AlertSettings } from '../core/alerts.ts';
import { EMPTY_TEAM_MAP } from '../core/teams.ts';
import { type WipSubject, evaluateWip, subjectTypeOf, wipAlertId, wipLimitOf, wipSubjectsOf } from '../core/wip.ts';
import type { WorkItem } from '../core/work-item.ts';
import { listAlerts } from '../store/alerts.ts';
import { applyOrderedDecision } from '../store/ordered-alerts.ts';
import { getItems } from '../store/item-queries.ts';
import { type WipRow, readAllWipRows, readWipRows, removeWipRow, syncWipMembership, takeWipTicket } from '../store/wip.ts';
import type { AlertDeps } from './alerts.ts';
import { teamCacheFor } from './team-cache.ts';

/*
 * `wip_over_limit`, one alert per person and per team, kept without transactions:
 * - after every item change the item's membership rows follow its owners, team and status
 *   (store/wip.ts), and each subject it joined or left is evaluated;
 * - evaluating a subject takes a ticket, then counts its rows and confirms each against its item
 *   (strongly consistent reads), and writes its decision (raise, refresh the count, resolve) with the
 *   ticket (store/ordered-alerts.ts): a decision from an older read never overrides one from a newer
 *   read. Every membership change is followed by its writer's evaluation, so the evaluation with the
 *   highest ticket saw every change and its decision stands: concurrent writers and replays leave one
 *   alert matching the final count, without a spurious resolve in between;
 * - the sweep evaluates every subject of every tenant, for limits that changed and crashes.
 */

/** The subject, named as the item just seen names it, else as its rows do. */
const subjectOf = (key: string, rows: readonly WipRow[], current?: string): WipSubject => ({
  key,
  type: subjectTypeOf(key),
  name: current ?? rows.at(-1)?.name ?? key.slice(key.indexOf(':') + 1),
});

/**
 * Evaluates one subject's work in progress against its limit: raises, refreshes or resolves its
 * alert. Idempotent; `name`: how the item just seen names the subject.
 */
export const evaluateWipSubject = async (deps: AlertDeps, tenantId: string, subjectKey: string, settings: AlertSettings, name?: string): Promise<void> => {
  const { db } = deps;
  const teams = (await teamCacheFor(db).get(tenantId)) ?? EMPTY_TEAM_MAP;
  const ticket = await takeWipTicket(db, tenantId, subjectKey);
  const rows = await readWipRows(db, tenantId, subjectKey);
  const items = await getItems(db, tenantId, [...new Set(rows.map((r) => r.itemId))], { consistent: true });
  const confirmed: WorkItem[] = [];
  for (const row of rows) {
    const item = items.get(row.itemId);
    if (item && wipSubjectsOf(item).some((s) => s.key === subjectKey)) confirmed.push(item);
    // Left by a crash or an older writer: only a row nobody rewrote since it was read is removed.
    else await removeWipRow(db, tenantId, subjectKey, row.itemId, { exactly: row.v });
  }
  const draft = evaluateWip(subjectOf(subjectKey, rows, name), confirmed, wipLimitOf(subjectKey, settings, teams), settings);
  const alertId = wipAlertId(subjectKey);
  if (await applyOrderedDecision(db, tenantId, { subjectId: subjectKey, alertId, ...(draft ? { draft } : {}) }, ticket, deps.clock())) {
    deps.onEvents?.(tenantId, subjectKey, `ALERT#${alertId}`);
  }
};

/** After an item change: moves its membership rows and evaluates the people and teams it joined or left. */
export const trackWip = async (deps: AlertDeps, tenantId: string, item: WorkItem, before: WorkItem | undefined, settings: AlertSettings): Promise<void> => {
  const changed = await syncWipMembership(deps.db, tenantId, item, before);
  for (const subject of changed) await evaluateWipSubject(deps, tenantId, subject.key, settings, subject.name);
};

/**
 * The sweep's pass over one tenant: every person and team with work in progress, and every open
 * `wip_over_limit` alert (whose subject may have none left), evaluated against today's settings.
 */
export const sweepTenantWip = async (deps: AlertDeps, tenantId: string, settings: AlertSettings, rows?: WipRow[]): Promise<number> => {
  const subjects = new Set((rows ?? (await readAllWipRows(deps.db, tenantId))).map((r) => r.subjectKey));
  let cursor: string | undefined;
  do {
    const page = await listAlerts(deps.db, tenantId, { kind: 'wip_over_limit', state: 'open' }, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const alert of page.items) subjects.add(alert.subject.id);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  for (const key of subjects) await evaluateWipSubject(deps, tenantId, key, settings);
  return subjects.size;
};

/**
 * The sweep's check of one open item: a membership row its processing never wrote (it stopped
 * after the item write) is written now, and its subject evaluated. `present` holds the tenant's
 * rows as `{subject}#{itemId}`.
 */
export const repairItemWip = async (deps: AlertDeps, tenantId: string, item: WorkItem, present: Set<string>, settings: AlertSettings): Promise<void> => {
  const missing = wipSubjectsOf(item).filter((s) => !present.has(`${s.key}#${item.id}`));
  if (missing.length === 0) return;
  await syncWipMembership(deps.db, tenantId, item, undefined);
  for (const subject of missing) {
    present.add(`${subject.key}#${item.id}`);
    await evaluateWipSubject(deps, tenantId, subject.key, settings, subject.name);
  }
};
