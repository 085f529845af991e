import { teamOf } from '../../../core/teams.ts';
import { WIP_STATUSES } from '../../../core/views.ts';
import type { WorkItem } from '../../../core/work-item.ts';
import { teamCacheFor } from '../../../pipeline/team-cache.ts';
import type { Db } from '../../../store/db.ts';
import { type PersonRecord, canonicalResolver, listPersonRecords } from '../../../store/people.ts';
import { itemsInStatus } from '../../../store/view-queries.ts';

/**
 * Items as every view sees them: the current team map decides the team (items indexed before the
 * map changed included), and owners are people, merged identities folded into one.
 */
export const asViewed = async (db: Db, tenantId: string, people?: readonly PersonRecord[]) => {
  const [map, records] = await Promise.all([teamCacheFor(db).get(tenantId), people ?? listPersonRecords(db, tenantId)]);
  const canonical = canonicalResolver(records);
  const folded = (item: WorkItem): WorkItem => {
    const team = teamOf(item, map) ?? item.team;
    const owners = item.owners.map((p) => (canonical(p.id) === p.id ? p : { ...p, id: canonical(p.id) }));
    return { ...item, owners, ...(team ? { team } : {}) };
  };
  return { map, canonical, folded };
};

/** The work in progress of a tenant: its size is the WIP, not the index. */
export const readWip = async (db: Db, tenantId: string): Promise<WorkItem[]> =>
  (await Promise.all(WIP_STATUSES.map((s) => itemsInStatus(db, tenantId, s)))).flat();

/** What every view query needs. */
export interface ViewDeps {
  db: Db;
  clock: () => Date;
}
