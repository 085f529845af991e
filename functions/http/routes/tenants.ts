import { Hono } from 'hono';
import * as z from 'zod';
import { AppError, NotFoundError } from '../../../core/errors.ts';
import { randomId } from '../../../core/ids.ts';
import type { ConnectionCache } from '../../../pipeline/connection-cache.ts';
import { createTenant } from '../../../store/tenants.ts';
import { putToken } from '../../../store/tokens.ts';
import { recordAudit } from '../../../store/audit.ts';
import type { OperationDeps } from '../../../pipeline/erasure.ts';
import { type AuthEnv, DEFAULT_TENANT, mintToken } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseJsonBody } from '../problem.ts';
import { OperationJobView, jobResponse, loadOperationRunners, prefersAsync } from './operation-jobs.ts';

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
    summary:
      'Delete a tenant (operator token only): revokes its tokens and connections at once, then deletes every row of the tenant in a resumable job. `Prefer: respond-async` answers 202 at once',
    tag: 'tenants',
    scope: 'operator',
    responses: {
      200: { description: 'Deleted: the finished purge job', schema: OperationJobView },
      202: { description: 'Revoked, deleting: the purge job, to follow at `GET /v1/jobs/{id}` (Location)', schema: OperationJobView },
      404: { description: 'Unknown tenant' },
      409: { description: 'The default tenant' },
    },
  },
];

export const tenantRoutes = (deps: OperationDeps & { connections: ConnectionCache; onOperationStarted?: (jobId: string) => void }) =>
  new Hono<AuthEnv>()
    .post('/', async (c) => {
      const { name } = await parseJsonBody(c, CreateTenant);
      const now = deps.clock();
      const id = randomId('ten');
      await createTenant(deps.db, { id, name, createdAt: now.toISOString() });
      const { token, record } = mintToken(id, 'initial admin token', ['admin'], now);
      await putToken(deps.db, record);
      // In the operator's tenant, which acted; the admin token is never recorded, only its id.
      const operator = c.get('principal');
      const detail = { name, adminTokenId: record.id };
      await recordAudit(deps.db, { tenantId: operator.tenantId, actor: operator.tokenId, action: 'tenant.created', target: id, detail, at: now.toISOString() });
      return c.json({ id, name, adminToken: token } satisfies z.infer<typeof CreatedTenant>, 201);
    })
    .delete('/:id', async (c) => {
      const id = c.req.param('id');
      if (id === DEFAULT_TENANT) {
        throw new AppError({ status: 409, type: 'default-tenant', title: 'Conflict', detail: 'The default tenant cannot be deleted.' });
      }
      // Revoked at once; everything else of the tenant is deleted by a resumable job (pipeline/tenant-purge.ts).
      const { startTenantPurge, runInline, INLINE_BUDGET_MS } = await loadOperationRunners();
      const started = await startTenantPurge(deps, c.get('principal'), id);
      if (!started) throw new NotFoundError(`Tenant ${id}`);
      return jobResponse(c, await runInline(deps, started.job, deps.onOperationStarted, prefersAsync(c) ? 0 : INLINE_BUDGET_MS));
    });
