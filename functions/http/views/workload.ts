import { computeWorkload } from '../../../core/views.ts';
import { workloadLimitsOf } from '../../../core/wip.ts';
import { loadAlertSettings } from '../../../pipeline/alerts.ts';
import type { Db } from '../../../store/db.ts';
import { asViewed, readWip } from './viewed.ts';

/** `GET /v1/views/workload`: work in progress against the limits the `wip_over_limit` alert uses (`personLimit` overrides a person's for this answer). */
export const loadWorkload = async (db: Db, tenantId: string, now: Date, personLimit?: number) => {
  const [wip, { map, folded }, settings] = await Promise.all([readWip(db, tenantId), asViewed(db, tenantId), loadAlertSettings(db, tenantId)]);
  return computeWorkload(wip.map(folded), { ...workloadLimitsOf(settings, map), ...(personLimit ? { person: personLimit } : {}) }, now);
};
