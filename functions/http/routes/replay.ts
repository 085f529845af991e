import { Hono } from 'hono';
import type { Clock } from '../../../core/ports.ts';
import { ReplayBody, replayJobView, startReplay } from '../../../pipeline/replay.ts';
import { recordAudit } from '../../../store/audit.ts';
import type { Db } from '../../../store/db.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseJsonBody } from '../problem.ts';
import { ReplayJob } from './jobs.ts';

export const replayOperations: Operation[] = [
  {
    method: 'post',
    path: '/v1/replay',
    summary: 'Run stored deliveries again through the current normalizers and mapping rules: starts a job (GET /v1/jobs/{id}), or returns the same replay already running',
    tag: 'operations',
    scope: 'admin',
    body: ReplayBody,
    responses: {
      200: { description: 'The same replay (connection, since, until) is running already: that job', schema: ReplayJob },
      202: { description: 'Job started', schema: ReplayJob },
      404: { description: 'Unknown connection' },
      422: { description: 'Invalid window' },
    },
  },
];

export interface ReplayRouteDeps {
  db: Db;
  clock: Clock;
  /** a local job runner, told about the new job; in AWS the scheduled sweep runs it */
  onJobStarted?: (jobId: string) => void;
}

export const replayRoutes = (deps: ReplayRouteDeps) =>
  new Hono<AuthEnv>().post('/', async (c) => {
    const { tenantId, tokenId } = c.get('principal');
    const body = await parseJsonBody(c, ReplayBody);
    const { job, created } = await startReplay(deps, tenantId, body);
    if (created) {
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'replay.started', target: job.id, detail: { ...body }, at: job.createdAt });
      deps.onJobStarted?.(job.id);
    }
    return c.json(replayJobView(job, deps.clock()), created ? 202 : 200);
  });
