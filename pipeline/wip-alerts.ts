import type { AlertSettings } from '../core/alerts.ts';
import { EMPTY_TEAM_MAP } from '../core/teams.ts';
import { type WipSubject, evaluateWip, subjectTypeOf, wipAlertId, wipLimitOf, wipMemberOf, wipSubjectsOf } from '../core/wip.ts';
import type { WorkItem } from '../core/work-item.ts';
import { listAlerts } from '../store/alerts.ts';
import { applyOrderedDecision } from '../store/ordered-alerts.ts';
import { getItems } from '../store/item-queries.ts';
import { type WipRow, keepWipMember, readAllWipRows, readWipRows, retireWipRow, syncWipMembership, takeWipTicket } from '../store/wip.ts';
import type { AlertDeps } from './alerts.ts';
import { teamCacheFor } from './team-cache.ts';

/*
 * `wip_over_limit`, one alert per person and per team, kept without transactions:
 * - after every item change the item's membership rows follow its owners, team and status
 *   (store/wip.ts, right after the item write), and each subject it joined or left is evaluated
 *   (pipeline/alerts.ts `evaluateAround`);
 * - evaluating a subject takes a ticket, then reads its rows (one strongly consistent Query of small
 *   rows, no item read), and writes its decision (raise, refresh the count, resolve) with the ticket
 *   (store/ordered-alerts.ts): a decision from an older read never overrides one from a newer read.
 *   Every membership change is followed by its writer's evaluation, so the evaluation with the
 *   highest ticket saw every change and its decision stands: concurrent writers and replays leave one
 *   alert matching the final count, without a spurious resolve in between;
 * - the sweep evaluates every subject of every tenant, for limits that changed, and confirms each
 *   row against its item, for crashes between an item write and its rows.
 */

/** The subject, named as the item just seen names it, else as its rows do. */
const subjectOf = (key: string, rows: readonly WipRow[], current?: string): WipSubject => ({
  key,
  type: subjectTypeOf(key),
  name: current ?? rows.at(-1)?.name ?? key.slice(key.indexOf(':') + 1),
});

/**
 * The rows whose item still counts against the subject (strongly consistent reads); the others,
 * left by a crash, are retired. A row written before the hub kept the item's name gets it.
 */
const confirmRows = async (deps: AlertDeps, tenantId: string, subjectKey: string, rows: readonly WipRow[]): Promise<WipRow[]> => {
  const items = await getItems(deps.db, tenantId, [...new Set(rows.map((r) => r.itemId))], { consistent: true });
  const confirmed: WipRow[] = [];
  for (const row of rows) {
    const item = items.get(row.itemId);
    if (!item || !wipSubjectsOf(item).some((s) => s.key === subjectKey)) {
      await retireWipRow(deps.db, tenantId, row, item?.version ?? row.v, deps.clock());
    } else if (row.member) {
      confirmed.push(row);
    } else {
      const member = wipMemberOf(item);
      await keepWipMember(deps.db, tenantId, row, member);
      confirmed.push({ ...row, member });
    }
  }
  return confirmed;
};

export interface WipEvaluation {
  /** how the item just seen names the subject */
  name?: string;
  /** check every row against its item first (the sweep) */
  confirm?: boolean;
}

/**
 * Evaluates one subject's work in progress against its limit: raises, refreshes or resolves its
 * alert. Idempotent. Its cost is one Query of the subject's rows, plus with `confirm` one read of
 * each row's item.
 */
export const evaluateWipSubject = async (deps: AlertDeps, tenantId: string, subjectKey: string, settings: AlertSettings, options: WipEvaluation = {}): Promise<void> => {
  const { db } = deps;
  const teams = (await teamCacheFor(db).get(tenantId)) ?? EMPTY_TEAM_MAP;
  const ticket = await takeWipTicket(db, tenantId, subjectKey);
  const read = await readWipRows(db, tenantId, subjectKey);
  // Rows without the item's name (written before the hub kept it) are checked and named once.
  const unchecked = options.confirm ? read : read.filter((r) => !r.member);
  const checked = unchecked.length > 0 ? await confirmRows(deps, tenantId, subjectKey, unchecked) : [];
  const rows = options.confirm ? checked : [...read.filter((r) => r.member), ...checked];
  const members = rows.map((r) => r.member!);
  const draft = evaluateWip(subjectOf(subjectKey, rows, options.name), members, wipLimitOf(subjectKey, settings, teams), settings);
  const alertId = wipAlertId(subjectKey);
  if (await applyOrderedDecision(db, tenantId, { subjectId: subjectKey, alertId, ...(draft ? { draft } : {}) }, ticket, deps.clock())) {
    deps.onEvents?.(tenantId, subjectKey, `ALERT#${alertId}`);
  }
};

/**
 * Subjects whose evaluation a long job holds back: a backfill page moves the rows of most of a
 * tenant's people, and evaluating each of them after every page reads their growing row sets
 * again and again. The job adds each page's subjects here and evaluates each once when `due`
 * (every `everyMs`) and when it ends. A crash in between loses no alert: the sweep evaluates every
 * subject with work in progress.
 */
export class WipBacklog {
  readonly #subjects = new Map<string, { tenantId: string; subject: WipSubject }>();
  #evaluatedAt: number;

  constructor(
    private readonly deps: AlertDeps,
    private readonly everyMs = 30_000,
  ) {
    this.#evaluatedAt = deps.clock().getTime();
  }

  add(tenantId: string, subjects: Iterable<WipSubject>): void {
    for (const subject of subjects) this.#subjects.set(`${tenantId}\n${subject.key}`, { tenantId, subject });
  }

  get due(): boolean {
    return this.deps.clock().getTime() - this.#evaluatedAt >= this.everyMs;
  }

  /** Evaluates every subject held back, once each; resolves with how many. */
  async evaluate(settingsOf: (tenantId: string) => Promise<AlertSettings>): Promise<number> {
    this.#evaluatedAt = this.deps.clock().getTime();
    const held = [...this.#subjects.values()];
    const settings = new Map<string, AlertSettings>();
    for (const { tenantId, subject } of held) {
      if (!settings.has(tenantId)) settings.set(tenantId, await settingsOf(tenantId));
      await evaluateWipSubject(this.deps, tenantId, subject.key, settings.get(tenantId)!, { name: subject.name });
      this.#subjects.delete(`${tenantId}\n${subject.key}`);
    }
    return held.length;
  }
}

/**
 * Every person and team of a tenant with work in progress, and every open `wip_over_limit` alert
 * (whose subject may have none left), evaluated against `settings`: the sweep's pass, which also
 * confirms each row against its item (`confirm`, given the tenant's `rows` it read), and what a
 * change of limits runs at once, from the rows alone.
 */
export const sweepTenantWip = async (deps: AlertDeps, tenantId: string, settings: AlertSettings, options: Pick<WipEvaluation, 'confirm'> & { rows?: WipRow[] } = {}): Promise<number> => {
  const subjects = new Set((options.rows ?? (await readAllWipRows(deps.db, tenantId))).map((r) => r.subjectKey));
  let cursor: string | undefined;
  do {
    const page = await listAlerts(deps.db, tenantId, { kind: 'wip_over_limit', state: 'open' }, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const alert of page.items) subjects.add(alert.subject.id);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  for (const key of subjects) await evaluateWipSubject(deps, tenantId, key, settings, { confirm: options.confirm ?? false });
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
  await syncWipMembership(deps.db, tenantId, item, undefined, deps.clock());
  for (const subject of missing) {
    present.add(`${subject.key}#${item.id}`);
    await evaluateWipSubject(deps, tenantId, subject.key, settings, { name: subject.name, confirm: true });
  }
};
