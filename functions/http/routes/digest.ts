import type { Context } from 'hono';
import * as z from 'zod';
import { Digest } from '../../../core/digest.ts';
import type { Clock } from '../../../core/ports.ts';
import type { Db } from '../../../store/db.ts';
import { loadDigests } from '../../../pipeline/digest.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseQuery } from '../problem.ts';

const DAY_MS = 86_400_000;

const DigestQuery = z.object({
  team: z.string().min(1).max(100).optional().describe('only this team’s work and alerts (the team map’s name, or a team a tool sets)'),
  days: z.coerce.number().int().min(1).max(90).default(7).describe('the window: this many days up to now'),
});

export const digestOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/views/digest',
    summary: 'Status digest of the last N days: closed, started, newly blocked, unblocked, alerts raised and resolved (also published weekly as work.digest.ready)',
    tag: 'views',
    scope: 'read',
    query: DigestQuery,
    responses: { 200: { description: 'The digest, read from recent and current work (not the whole index)', schema: Digest } },
  },
];

/** `GET /v1/views/digest` (mounted by routes/views.ts). */
export const digestHandler = (deps: { db: Db; clock: Clock }) => async (c: Context<AuthEnv>) => {
  const { team, days } = parseQuery(c, DigestQuery);
  const until = deps.clock();
  const since = new Date(until.getTime() - days * DAY_MS);
  const [digest] = await loadDigests(deps.db, c.get('principal').tenantId, { since, until }, [team]);
  return c.json(digest);
};
