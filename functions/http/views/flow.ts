import { computeFlow, weekOf } from '../../../core/views.ts';
import type { Db } from '../../../store/db.ts';
import { itemsInStatus } from '../../../store/view-queries.ts';
import { asViewed, readWip } from './viewed.ts';

/** `GET /v1/views/flow`: throughput, cycle time and aging over `weeks` weeks (the WIP and the work done since the window's start). */
export const loadFlow = async (db: Db, tenantId: string, now: Date, weeks: number) => {
  const since = `${weekOf(new Date(now.getTime() - (weeks - 1) * 7 * 86_400_000))}T00:00:00.000Z`;
  const [done, wip, { folded }] = await Promise.all([itemsInStatus(db, tenantId, 'done', { since }), readWip(db, tenantId), asViewed(db, tenantId)]);
  return computeFlow(done.map(folded), wip.map(folded), weeks, now);
};
