import type { Context } from 'hono';
import * as z from 'zod';
import type { OperationJob } from '../../../store/operation-jobs.ts';

/** An erasure or a tenant purge as `GET /v1/jobs/{id}` and the DELETE that started it show it. */
export const OperationJobView = z.object({
  id: z.string(),
  kind: z.enum(['erasure', 'tenant-purge']),
  status: z.enum(['running', 'done', 'failed']),
  target: z.string().describe('the pseudonym of the erased person, or the purged tenant'),
  phase: z.string().describe('erasure: in-flight, items, alerts, scan, log, teams, people, done; purge: scan, rescan, connections, tenant, done'),
  counts: z.record(z.string(), z.number()).describe('rows read, rewritten and deleted so far, by kind'),
  error: z.string().nullable().describe('the last error: why the job failed, or the transient one it is retrying after'),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const operationJobView = (job: OperationJob): z.infer<typeof OperationJobView> => ({
  id: job.id,
  kind: job.kind,
  status: job.status,
  target: job.target,
  phase: job.phase,
  counts: job.counts,
  error: job.error ?? null,
  createdAt: job.createdAt,
  updatedAt: job.updatedAt,
  finishedAt: job.finishedAt ?? null,
});

/** `Prefer: respond-async` (RFC 7240 §4.1): answer 202 at once instead of running the first steps inline. */
export const prefersAsync = (c: Context): boolean => /(^|[,;\s])respond-async($|[,;\s])/i.test(c.req.header('prefer') ?? '');

/** 200 with a finished job, 202 (and where to follow it) while it runs. */
export const jobResponse = (c: Context, job: OperationJob) => {
  if (job.status !== 'running') return c.json(operationJobView(job), 200);
  c.header('location', `/v1/jobs/${job.id}`);
  return c.json(operationJobView(job), 202);
};

/**
 * What starts and runs an erasure or a tenant purge, loaded by the first DELETE that needs it:
 * their steps (scrubbing and rewriting every kind of row) are code no other request runs, kept out
 * of the API function's cold start.
 */
export const loadOperationRunners = async () => {
  const [{ startErasure }, { startTenantPurge }, { runInline, INLINE_BUDGET_MS }] = await Promise.all([
    import('../../../pipeline/erasure.ts'),
    import('../../../pipeline/tenant-purge.ts'),
    import('../../../pipeline/operation-jobs.ts'),
  ]);
  return { startErasure, startTenantPurge, runInline, INLINE_BUDGET_MS };
};
