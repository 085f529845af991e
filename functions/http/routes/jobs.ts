import { Hono } from 'hono';
import { z } from 'zod';
import { NotFoundError } from '../../../core/errors.ts';
import type { Clock } from '../../../core/ports.ts';
import { jobView } from '../../../pipeline/backfill.ts';
import type { Db } from '../../../store/db.ts';
import { getJob } from '../../../store/jobs.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';

const Counts = z.object({
  pages: z.number().describe('pages read from the tool and applied'),
  records: z.number().describe('records read'),
  applied: z.number().describe('records new to the index path'),
  duplicates: z.number().describe('records an earlier run already recorded (a page read again after a restart)'),
  failed: z.number().describe('records that could not be indexed'),
});

export const Job = z.object({
  id: z.string(),
  kind: z.literal('backfill'),
  connectionId: z.string(),
  source: z.string(),
  status: z.enum(['running', 'done', 'failed']),
  since: z.string(),
  counts: Counts,
  remaining: z.number().nullable().describe('records still to read in the listing in progress, when the tool tells'),
  ratePerSecond: z.number().describe('records per second since the job started'),
  etaSeconds: z.number().nullable().describe('estimated seconds left (null: unknown)'),
  waitingUntil: z.string().nullable().describe('set while the tool\'s rate limit holds the job'),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const jobOperations: Operation[] = [
  { method: 'get', path: '/v1/jobs/{id}', summary: 'A backfill job: counts, rate, ETA', tag: 'connections', scope: 'admin', responses: { 200: { description: 'The job', schema: Job } } },
];

export const jobRoutes = (deps: { db: Db; clock: Clock }) =>
  new Hono<AuthEnv>().get('/:id', async (c) => {
    const job = await getJob(deps.db, c.req.param('id'));
    if (!job || job.tenantId !== c.get('principal').tenantId) throw new NotFoundError(`Job ${c.req.param('id')}`);
    return c.json(jobView(job, deps.clock()));
  });
