import { Hono } from 'hono';
import * as z from 'zod';
import type { Db } from '../../../store/db.ts';
import { listAuditLog } from '../../../store/audit.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseQuery } from '../problem.ts';
import { Pagination, pageOf } from './items.ts';

export const AuditEntry = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string().describe('the token id that acted: `operator` for the operator token, `system` for the hub itself'),
  action: z.string().describe('`<noun>.<verb>`, e.g. `connection.created`'),
  target: z.string().describe('what was acted on, e.g. a connection id'),
  detail: z.record(z.string(), z.unknown()).optional().describe('what else tells the action apart; never a secret or a token'),
});

const AuditQuery = z
  .object({ action: z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/, 'an action such as `connection.created`').optional() })
  .extend(Pagination.shape);

export const auditOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/audit',
    summary: "The tenant's audit log of admin actions, newest first (optionally one `action`)",
    tag: 'operations',
    scope: 'admin',
    query: AuditQuery,
    responses: { 200: { description: 'A page of audit entries', schema: pageOf(AuditEntry) } },
  },
];

export const auditRoutes = (deps: { db: Db }) =>
  new Hono<AuthEnv>().get('/', async (c) => {
    const { action, limit, cursor } = parseQuery(c, AuditQuery);
    return c.json(await listAuditLog(deps.db, c.get('principal').tenantId, { limit, ...(cursor ? { cursor } : {}), ...(action ? { action } : {}) }));
  });
