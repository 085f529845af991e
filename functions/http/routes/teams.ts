import { Hono } from 'hono';
import * as z from 'zod';
import { TeamMap } from '../../../core/teams.ts';
import type { Clock } from '../../../core/ports.ts';
import type { Db } from '../../../store/db.ts';
import { recordAudit } from '../../../store/audit.ts';
import { getTeamMap, putTeamMap } from '../../../store/teams.ts';
import { teamCacheFor } from '../../../pipeline/team-cache.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseJsonBody } from '../problem.ts';

const StoredTeamMap = TeamMap.and(z.object({ updatedAt: z.string().optional() }));

export const teamOperations: Operation[] = [
  {
    method: 'put',
    path: '/v1/teams',
    summary: 'Replace the team map: containers and people per team, WIP limits; applied to items as they are ingested and to the views',
    tag: 'teams',
    scope: 'admin',
    body: TeamMap,
    responses: { 200: { description: 'The stored map', schema: StoredTeamMap }, 422: { description: 'An invalid field, named' } },
  },
  { method: 'get', path: '/v1/teams', summary: 'The team map', tag: 'teams', scope: 'read', responses: { 200: { description: 'The map', schema: StoredTeamMap } } },
];

export const teamRoutes = (deps: { db: Db; clock: Clock }) =>
  new Hono<AuthEnv>()
    .put('/', async (c) => {
      const map = await parseJsonBody(c, TeamMap);
      const { tenantId, tokenId } = c.get('principal');
      const updatedAt = deps.clock().toISOString();
      await putTeamMap(deps.db, tenantId, map, updatedAt);
      teamCacheFor(deps.db).invalidate(tenantId);
      const detail = { teams: map.teams.map((t) => t.name) };
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'teams.updated', target: 'teams', detail, at: updatedAt });
      return c.json({ ...map, updatedAt });
    })
    .get('/', async (c) => {
      const { map, updatedAt } = await getTeamMap(deps.db, c.get('principal').tenantId);
      return c.json({ ...map, ...(updatedAt ? { updatedAt } : {}) });
    });
