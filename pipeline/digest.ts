import { type Digest, buildDigest } from '../core/digest.ts';
import { teamOf } from '../core/teams.ts';
import type { WorkItem } from '../core/work-item.ts';
import type { Db } from '../store/db.ts';
import { readDigestInputs } from '../store/digest-inputs.ts';
import { teamCacheFor } from './team-cache.ts';

/**
 * Status digests of a tenant for one window: the inputs read once (store/digest-inputs.ts), items
 * placed in teams by the current team map (like the workload and flow views), then assembled per
 * scope (core/digest.ts). `teams` lists the scopes: `undefined` is the whole tenant.
 */
export const loadDigests = async (
  db: Db,
  tenantId: string,
  window: { since: Date; until: Date },
  teams: readonly (string | undefined)[],
): Promise<Digest[]> => {
  const [inputs, map] = await Promise.all([readDigestInputs(db, tenantId, window.since), teamCacheFor(db).get(tenantId)]);
  const placed = (item: WorkItem): WorkItem => {
    const team = teamOf(item, map) ?? item.team;
    return team === item.team ? item : { ...item, ...(team ? { team } : {}) };
  };
  const folded = {
    items: inputs.items.map(placed),
    blocked: inputs.blocked.map((b) => ({ ...b, item: placed(b.item) })),
    unblocked: inputs.unblocked.map((u) => ({ ...u, item: placed(u.item) })),
    alerts: inputs.alerts,
  };
  return teams.map((team) => buildDigest({ ...folded, ...window, ...(team === undefined ? {} : { team }) }));
};

/** The names of a tenant's teams in its current map. */
export const teamNamesOf = async (db: Db, tenantId: string): Promise<string[]> => (await teamCacheFor(db).get(tenantId)).teams.map((t) => t.name);
