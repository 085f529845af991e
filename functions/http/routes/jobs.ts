import { Hono } from 'hono';
import * as z from 'zod';
import { NotFoundError } from '../../../core/errors.ts';
import type { Clock } from '../../../core/ports.ts';
import { jobView } from '../../../pipeline/backfill.ts';
import { replayJobView } from '../../../pipeline/replay.ts';
import type { Db } from '../../../store/db.ts';
import { type AnyJobRecord, getJob } from '../../../store/jobs.ts';
import type { OperationJob } from '../../../store/operation-jobs.ts';
import { OperationJobView, operationJobView } from './operation-jobs.ts';
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

export const ReplayJob = z.object({
  id: z.string(),
  kind: z.literal('replay'),
  connectionId: z.string().nullable().describe('null: every connection of the tenant'),
  status: z.enum(['running', 'done', 'failed']),
  since: z.string().nullable(),
  until: z.string(),
  counts: z.object({
    total: z.number().nullable().describe('deliveries in the window, counted when the replay starts (null before)'),
    processed: z.number().describe('deliveries run again so far'),
    ignored: z.number().describe('of those, ignored by the current rules'),
    failed: z.number().describe('of those, rejected by the current normalizer (see GET /v1/deliveries?status=failed)'),
  }),
  remaining: z.number().nullable(),
  ratePerSecond: z.number(),
  etaSeconds: z.number().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const jobOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/jobs/{id}',
    summary: "A job of the tenant: a backfill's or a replay's counts, rate and ETA; an erasure's or a tenant purge's phase and counts",
    tag: 'connections',
    scope: 'admin',
    responses: { 200: { description: 'The job, by its `kind`', schema: z.discriminatedUnion('kind', [Job, ReplayJob, OperationJobView]) } },
  },
];

export const jobRoutes = (deps: { db: Db; clock: Clock }) =>
  new Hono<AuthEnv>().get('/:id', async (c) => {
    const job = await getJob<AnyJobRecord>(deps.db, c.req.param('id'));
    if (!job || job.tenantId !== c.get('principal').tenantId) throw new NotFoundError(`Job ${c.req.param('id')}`);
    // Erasures and tenant purges share the job rows (store/operation-jobs.ts).
    const operation = job as unknown as OperationJob;
    if (operation.kind === 'erasure' || operation.kind === 'tenant-purge') return c.json(operationJobView(operation));
    return c.json(job.kind === 'replay' ? replayJobView(job, deps.clock()) : jobView(job, deps.clock()));
  });
