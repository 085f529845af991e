import { EMPTY_TEAM_MAP, type TeamMap } from '../core/teams.ts';
import type { Db } from '../store/db.ts';
import { getTeamMap } from '../store/teams.ts';

/**
 * Team maps read by the processor for every change, cached briefly: a `PUT /v1/teams` through this
 * process applies at once, other processes (Lambda) pick it up within `ttlMs`.
 */
export class TeamCache {
  readonly #entries = new Map<string, { value: TeamMap; expires: number }>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 30_000,
  ) {}

  async get(tenantId: string): Promise<TeamMap> {
    const hit = this.#entries.get(tenantId);
    if (hit && hit.expires > Date.now()) return hit.value;
    const { map } = await getTeamMap(this.db, tenantId);
    this.#entries.set(tenantId, { value: map ?? EMPTY_TEAM_MAP, expires: Date.now() + this.ttlMs });
    return map;
  }

  invalidate(tenantId: string): void {
    this.#entries.delete(tenantId);
  }
}

const caches = new WeakMap<Db, TeamCache>();

/** One cache per table handle, shared by the processor and the HTTP routes of a process. */
export const teamCacheFor = (db: Db): TeamCache => {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new TeamCache(db)));
  return cache;
};
