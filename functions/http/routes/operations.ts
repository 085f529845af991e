import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import * as z from 'zod';
import { AppError, ForbiddenError, UnauthorizedError } from '../../../core/errors.ts';
import type { Clock } from '../../../core/ports.ts';
import { type HubMetrics, collectStoreGauges, renderProcessMetrics } from '../../../pipeline/hub-metrics.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../../../pipeline/metrics.ts';
import type { Db } from '../../../store/db.ts';
import { pingEngine, processingLagSeconds } from '../../../store/hub-stats.ts';
import type { authenticate } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { PROBLEM_CONTENT_TYPE, problemResponse } from '../problem.ts';

/** Default of TRIBUTARY_READY_MAX_LAG_SECONDS: the processor normally takes well under a second. */
export const DEFAULT_READY_MAX_LAG_SECONDS = 60;

const Check = z.object({ ok: z.boolean(), detail: z.string() });
const Readiness = z.object({
  status: z.literal('ready'),
  checks: z.object({
    engine: Check.describe('the storage engine answered a GetItem'),
    lag: Check.extend({ seconds: z.number().describe('age of the oldest delivery waiting for the processor') }),
  }),
});

export const operationsOperations: Operation[] = [
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the engine answers and processing keeps up (lag under TRIBUTARY_READY_MAX_LAG_SECONDS)',
    tag: 'operations',
    responses: {
      200: { description: 'Ready', schema: Readiness },
      503: { description: 'Not ready: the problem names the failing check, `checks` holds them all', contentType: PROBLEM_CONTENT_TYPE },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format 0.0.4); the operator token or TRIBUTARY_METRICS_TOKEN',
    tag: 'operations',
    scope: 'operator',
    responses: {
      200: { description: 'Counters, gauges and histograms', contentType: PROMETHEUS_CONTENT_TYPE },
      401: { description: 'Missing or unknown token', contentType: PROBLEM_CONTENT_TYPE },
      403: { description: 'A tenant token', contentType: PROBLEM_CONTENT_TYPE },
    },
  },
];

export class NotReadyError extends AppError {
  constructor(failing: string[], checks: Record<string, unknown>) {
    super({
      status: 503,
      type: 'not-ready',
      title: 'Service Unavailable',
      detail: `Failing: ${failing.join(', ')}. Keep traffic away until GET /readyz answers 200; see docs/operations.md (Health and metrics).`,
      extensions: { failing, checks },
    });
    this.name = 'NotReadyError';
  }
}

export interface OperationsRouteDeps {
  db: Db;
  clock: Clock;
  metrics: HubMetrics;
  resolve: ReturnType<typeof authenticate>;
  /** TRIBUTARY_METRICS_TOKEN: lets a scraper read /metrics, and nothing else */
  metricsToken?: string;
  readyMaxLagSeconds?: number;
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

const describeError = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export const operationsRoutes = (deps: OperationsRouteDeps) => {
  const maxLag = deps.readyMaxLagSeconds ?? DEFAULT_READY_MAX_LAG_SECONDS;
  const metricsHash = deps.metricsToken ? sha256(deps.metricsToken) : undefined;

  /** The metrics token, compared in constant time; anything else must be the operator token. */
  const authorizeScrape = async (header: string | undefined): Promise<void> => {
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (metricsHash && token && timingSafeEqual(sha256(token), metricsHash)) return;
    const principal = await deps.resolve(header).catch((error: unknown) => {
      if (error instanceof UnauthorizedError) throw new UnauthorizedError('Send the operator token or TRIBUTARY_METRICS_TOKEN as `Authorization: Bearer <token>`.', error.type);
      throw error;
    });
    if (!principal.scopes.includes('operator')) throw new ForbiddenError('Metrics cover every tenant: use the operator token or TRIBUTARY_METRICS_TOKEN.');
  };

  return new Hono()
    .get('/readyz', async (c) => {
      const engine = await pingEngine(deps.db).then(
        () => ({ ok: true, detail: 'answered' }),
        (error: unknown) => ({ ok: false, detail: describeError(error) }),
      );
      const lag = engine.ok
        ? await processingLagSeconds(deps.db, deps.clock()).then(
            (seconds) => ({ ok: seconds < maxLag, seconds, detail: `oldest pending delivery waits ${Math.round(seconds)} s (limit ${maxLag} s)` }),
            (error: unknown) => ({ ok: false, seconds: 0, detail: describeError(error) }),
          )
        : { ok: false, seconds: 0, detail: 'not measured: the engine did not answer' };
      const checks = { engine, lag };
      const failing = Object.entries(checks).flatMap(([name, check]) => (check.ok ? [] : [name]));
      // Answered directly, not thrown: a probe every few seconds must not log an error each time.
      if (failing.length > 0) return problemResponse(new NotReadyError(failing, checks), c.req.path);
      return c.json({ status: 'ready', checks } satisfies z.infer<typeof Readiness>);
    })
    .get('/metrics', async (c) => {
      await authorizeScrape(c.req.header('authorization'));
      await collectStoreGauges(deps.metrics, deps.db, deps.clock());
      return c.body(deps.metrics.registry.render() + renderProcessMetrics(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
    });
};
