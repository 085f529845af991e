import type { Alert } from '../core/alerts.ts';
import type { DigestInput } from '../core/digest.ts';
import { WIP_STATUSES } from '../core/views.ts';
import { type AlertQuery, listAlerts } from './alerts.ts';
import { readBlockedItems } from './blocked.ts';
import type { Db } from './db.ts';
import { getItems } from './item-queries.ts';
import { itemsInStatus } from './view-queries.ts';

/**
 * What the status digest is assembled from (core/digest.ts), for a window starting at `since`.
 * Every read is bounded by recent or current work, never by the size of the index:
 * - closed and started: the `done` and `cancelled` partitions from `since` (an item's updatedAt is
 *   at least its closedAt) and the work in progress (`in_progress`, `in_review`, `blocked`);
 * - newly blocked: the blocked items (the sparse blocked index) with their dependency state's
 *   `blockedSince`;
 * - unblocked and alerts raised: the alert indexes, newest opened first, down to `since`;
 * - alerts resolved: the resolved alerts, at most {@link MAX_RESOLVED} (they are sorted by when they
 *   opened, not when they resolved; retention bounds the partition).
 */
const MAX_ALERTS = 5000;
const MAX_RESOLVED = 5000;

/** Alerts of one index, newest opened first, while `keep` holds and at most `max`. */
const readAlerts = async (db: Db, tenantId: string, query: AlertQuery, keep: (alert: Alert) => boolean, max: number): Promise<Alert[]> => {
  const out: Alert[] = [];
  let cursor: string | undefined;
  do {
    const page = await listAlerts(db, tenantId, query, { limit: 200, ...(cursor ? { cursor } : {}) });
    for (const alert of page.items) {
      if (!keep(alert)) return out;
      out.push(alert);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor && out.length < max);
  return out;
};

export const readDigestInputs = async (db: Db, tenantId: string, since: Date): Promise<Omit<DigestInput, 'team' | 'since' | 'until'>> => {
  const from = since.toISOString();
  const [closed, wip, blockedItems, unblockedAlerts, raised, resolved] = await Promise.all([
    Promise.all([itemsInStatus(db, tenantId, 'done', { since: from }), itemsInStatus(db, tenantId, 'cancelled', { since: from })]).then((lists) => lists.flat()),
    Promise.all(WIP_STATUSES.map((status) => itemsInStatus(db, tenantId, status))).then((lists) => lists.flat()),
    readBlockedItems(db, tenantId),
    readAlerts(db, tenantId, { kind: 'unblocked' }, (a) => a.openedAt >= from, MAX_ALERTS),
    readAlerts(db, tenantId, {}, (a) => a.openedAt >= from, MAX_ALERTS),
    readAlerts(db, tenantId, { state: 'resolved' }, () => true, MAX_RESOLVED),
  ]);
  const { states } = blockedItems;
  const blocked = blockedItems.items.flatMap((item) => {
    const state = states.get(item.id);
    return state?.blocked && state.blockedSince ? [{ item, since: state.blockedSince }] : [];
  });
  const subjects = await getItems(db, tenantId, [...new Set(unblockedAlerts.map((a) => a.subject.id))]);
  const unblocked = unblockedAlerts.flatMap((alert) => {
    const item = subjects.get(alert.subject.id);
    return item ? [{ item, at: alert.openedAt }] : [];
  });
  const alerts = [...new Map([...raised, ...resolved].map((a) => [a.id, a])).values()];
  return { items: [...new Map([...closed, ...wip].map((i) => [i.id, i])).values()], blocked, unblocked, alerts };
};
