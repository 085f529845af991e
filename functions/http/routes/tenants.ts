import { Hono } from 'hono';
import * as z from 'zod';
import type { Clock } from '../../../core/ports.ts';
import { AppError, NotFoundError } from '../../../core/errors.ts';
import { randomId } from '../../../core/ids.ts';
import type { ConnectionCache } from '../../../pipeline/connection-cache.ts';
import type { Db } from '../../../store/db.ts';
import { deleteConnection, listConnections } from '../../../store/connections.ts';
import { createTenant, getTenant, markTenantDeleted } from '../../../store/tenants.ts';
import { deleteToken, listTokens, putToken } from '../../../store/tokens.ts';
import { type AuthEnv, DEFAULT_TENANT, mintToken } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseJsonBody } from '../problem.ts';

const CreateTenant = z.object({ name: z.string().min(1).max(200) });
const CreatedTenant = z.object({ id: z.string(), name: z.string(), adminToken: z.string().describe('shown once') });

export const tenantOperations: Operation[] = [
  {
    method: 'post',
    path: '/v1/tenants',
    summary: 'Create a tenant (operator token only)',
    tag: 'tenants',
    scope: 'operator',
    body: CreateTenant,
    responses: { 201: { description: 'Created, with its first admin token', schema: CreatedTenant } },
  },
  {
    method: 'delete',
    path: '/v1/tenants/{id}',
    summary: 'Delete a tenant: revokes its tokens and connections (operator token only)',
    tag: 'tenants',
    scope: 'operator',
    responses: { 204: { description: 'Deleted' } },
  },
];

export const tenantRoutes = (deps: { db: Db; clock: Clock; connections: ConnectionCache }) =>
  new Hono<AuthEnv>()
    .post('/', async (c) => {
      const { name } = await parseJsonBody(c, CreateTenant);
      const now = deps.clock();
      const id = randomId('ten');
      await createTenant(deps.db, { id, name, createdAt: now.toISOString() });
      const { token, record } = mintToken(id, 'initial admin token', ['admin'], now);
      await putToken(deps.db, record);
      return c.json({ id, name, adminToken: token } satisfies z.infer<typeof CreatedTenant>, 201);
    })
    .delete('/:id', async (c) => {
      const id = c.req.param('id');
      if (id === DEFAULT_TENANT) {
        throw new AppError({ status: 409, type: 'default-tenant', title: 'Conflict', detail: 'The default tenant cannot be deleted.' });
      }
      if (!(await getTenant(deps.db, id))) throw new NotFoundError(`Tenant ${id}`);
      for (const token of await listTokens(deps.db, id)) await deleteToken(deps.db, token.id);
      for (const connection of await listConnections(deps.db, id)) {
        await deleteConnection(deps.db, connection.id);
        deps.connections.invalidate(connection.id);
      }
      await markTenantDeleted(deps.db, id, deps.clock().toISOString());
      return c.body(null, 204);
    });
