import { Hono } from 'hono';
import { ForbiddenError } from '../../../core/errors.ts';
import type { OperationDeps } from '../../../pipeline/erasure.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { OperationJobView, jobResponse, loadOperationRunners, prefersAsync } from './operation-jobs.ts';

export const personErasureOperations: Operation[] = [
  {
    method: 'delete',
    path: '/v1/people/{id}',
    summary:
      'Erase a person (and everyone merged into it): identities and personal data leave people, items, alerts, raw deliveries and kept events, replaced by a stable pseudonym; later deliveries naming them are pseudonymized. Audited. `Prefer: respond-async` answers 202 at once',
    tag: 'people',
    scope: 'admin',
    responses: {
      200: { description: 'Erased: the finished job', schema: OperationJobView },
      202: { description: 'Erasing: the job, to follow at `GET /v1/jobs/{id}` (Location)', schema: OperationJobView },
      404: { description: 'Unknown person (or another tenant’s)' },
      409: { description: 'The id is already a pseudonym' },
    },
  },
];

/** `DELETE /v1/people/{id}`, beside the people routes (they share the path prefix and its `read` gate). */
export const personErasureRoutes = (deps: OperationDeps & { onOperationStarted?: (jobId: string) => void }) =>
  new Hono<AuthEnv>().delete('/:id', async (c) => {
    const { tenantId, tokenId, scopes } = c.get('principal');
    if (!scopes.includes('admin')) throw new ForbiddenError('Erasing a person needs a token with the `admin` scope.');
    const { startErasure, runInline, INLINE_BUDGET_MS } = await loadOperationRunners();
    const { job } = await startErasure(deps, tenantId, c.req.param('id'), tokenId);
    return jobResponse(c, await runInline(deps, job, deps.onOperationStarted, prefersAsync(c) ? 0 : INLINE_BUDGET_MS));
  });
