import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { csrf } from 'hono/csrf';
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import type { ConnectorRegistry } from '../../connectors/index.ts';
import { AppError, ForbiddenError, NotFoundError } from '../../core/errors.ts';
import type { Clock, Logger } from '../../core/ports.ts';
import type { LocalBus } from '../../bus/local-bus.ts';
import type { ConnectionCache } from '../../pipeline/connection-cache.ts';
import type { Db } from '../../store/db.ts';
import { type AuthEnv, authenticate, requireScope } from './auth.ts';
import { buildOpenApi } from './openapi.ts';
import type { Operation } from './openapi-registry.ts';
import { problemResponse } from './problem.ts';
import { connectionOperations, connectionRoutes } from './routes/connections.ts';
import { dependencyOperations, dependencyRoutes } from './routes/dependencies.ts';
import { eventOperations, eventRoutes } from './routes/events.ts';
import { hookOperations, hookRoutes } from './routes/hooks.ts';
import { itemOperations, itemRoutes } from './routes/items.ts';
import { jobOperations, jobRoutes } from './routes/jobs.ts';
import { deliveryOperations, deliveryRoutes } from './routes/deliveries.ts';
import { replayOperations, replayRoutes } from './routes/replay.ts';
import { tenantOperations, tenantRoutes } from './routes/tenants.ts';
import { tokenOperations, tokenRoutes } from './routes/tokens.ts';
import { viewOperations, viewRoutes } from './routes/views.ts';
import { teamOperations, teamRoutes } from './routes/teams.ts';
import { peopleOperations, peopleRoutes } from './routes/people.ts';
import { personErasureOperations, personErasureRoutes } from './routes/person-erasure.ts';
import { exportOperations, exportRoutes } from './routes/export.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { auditOperations, auditRoutes } from './routes/audit.ts';
import { operationsOperations, operationsRoutes } from './routes/operations.ts';
import { subscriptionOperations, subscriptionRoutes } from './routes/subscriptions.ts';
import { type TargetPolicy, systemResolver } from '../../bus/webhook-target.ts';
import { requestMetrics } from './request-metrics.ts';
import type { TimelineReader } from './views/item.ts';
import { listSubjectEvents } from '../../store/event-log.ts';
import { type HubMetrics, createHubMetrics } from '../../pipeline/hub-metrics.ts';

export interface AppDeps {
  db: Db;
  connectors: ConnectorRegistry;
  connections: ConnectionCache;
  clock: Clock;
  log: Logger;
  publicUrl: string;
  maxBodyBytes: number;
  operatorToken?: string;
  /** the local bus, for the SSE stream; absent in AWS */
  bus?: LocalBus;
  onAccepted?: (deliveryPk: string) => void;
  /** a local runner for backfill and replay jobs; absent in AWS (the scheduled sweep runs them) */
  onJobStarted?: (jobId: string) => void;
  /** a local runner for erasures and tenant purges, taking over what a request did not finish; absent in AWS (the sweep resumes them) */
  onOperationStarted?: (jobId: string) => void;
  version?: string;
  /** this process's figures (GET /metrics); a fresh set when absent */
  metrics?: HubMetrics;
  /** TRIBUTARY_METRICS_TOKEN: reads GET /metrics and nothing else */
  metricsToken?: string;
  /** TRIBUTARY_READY_MAX_LAG_SECONDS: GET /readyz fails when the oldest pending delivery is older */
  readyMaxLagSeconds?: number;
  /** an item's timeline (the item page, GET /v1/items/{id}/context); the durable per-subject event log by default */
  readTimeline?: TimelineReader;
  /** the SSRF guard of webhook subscriptions: TRIBUTARY_ALLOW_PRIVATE_TARGETS and the resolver (the system's by default) */
  webhookTargets?: TargetPolicy;
  /** a local dispatcher, told when a subscription has work now (a resume, a replay); absent in AWS (the sweep sends it) */
  onSubscriptionWork?: (tenantId: string, subscriptionId: string) => void;
  /** a local publisher, told when a route wrote an alert event (a resumed subscription's alert resolved) */
  onEvents?: () => void;
}

/**
 * What a browser is told about every response (hono's secure-headers): no script runs (the pages
 * need none, and a nonce would be added here if one ever did), styles only from the hub's own
 * stylesheet, no framing (clickjacking), no MIME sniffing, no referrer to the tools the pages link to.
 */
export const securityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: 'DENY',
  referrerPolicy: 'no-referrer',
  // A hub on its own host: HTTPS for it, not for every sibling of its domain.
  strictTransportSecurity: 'max-age=31536000',
});

/** The event log's page of an item's events (store/event-log.ts), as the item view reads it. */
const eventLogTimeline =
  (db: Db): TimelineReader =>
  async (tenantId, subjectRef, page) => {
    const { items, nextCursor } = await listSubjectEvents(db, tenantId, subjectRef, { limit: page.limit, ...(page.before ? { before: page.before } : {}) });
    return { events: items.map(({ event, cursor }) => ({ id: event.id, type: event.type, time: event.time, subject: event.subject, data: event.data, cursor })), nextCursor };
  };

const publicOperations: Operation[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness', tag: 'operations', responses: { 200: { description: 'The process is up' } } },
  { method: 'get', path: '/openapi.json', summary: 'This document', tag: 'operations', responses: { 200: { description: 'OpenAPI 3.1' } } },
];

export const ALL_OPERATIONS: readonly Operation[] = [
  ...hookOperations,
  ...itemOperations,
  ...dependencyOperations,
  ...viewOperations,
  ...teamOperations,
  ...peopleOperations,
  ...personErasureOperations,
  ...exportOperations,
  ...connectionOperations,
  ...jobOperations,
  ...deliveryOperations,
  ...replayOperations,
  ...tokenOperations,
  ...tenantOperations,
  ...eventOperations,
  ...subscriptionOperations,
  ...auditOperations,
  ...operationsOperations,
  ...publicOperations,
];

/** The whole HTTP surface, the same in local mode and behind Lambda. */
export const createApp = (deps: AppDeps) => {
  const resolve = authenticate({ db: deps.db, operatorToken: deps.operatorToken });
  // Built at the first request for it, not with the app: converting every route's schemas took
  // 30-50 ms of a Lambda's first request; and behind a Function URL, the public URL is known only
  // once a request came in on it.
  let openApi: ReturnType<typeof buildOpenApi> | undefined;
  const app = new Hono<AuthEnv>();
  const metrics = deps.metrics ?? createHubMetrics();
  const readTimeline = deps.readTimeline ?? eventLogTimeline(deps.db);
  // First, so it times everything after it, errors included.
  app.use('*', requestMetrics(metrics));
  app.use('*', securityHeaders);
  // The dashboard's form posts (/login, /logout, and any later form) must come from the hub's own
  // pages. Not the API or the webhooks: csrf() refuses a bodiless or text/plain post without an
  // Origin header, which is how SNS and API clients post.
  const dashboardCsrf = csrf({
    origin: (origin) => {
      try {
        return origin === new URL(deps.publicUrl).origin;
      } catch {
        return false;
      }
    },
  });
  app.use(
    '*',
    createMiddleware(async function dashboardFormsOnly(c, next) {
      if (c.req.path.startsWith('/v1/') || c.req.path.startsWith('/hooks/')) return next();
      return dashboardCsrf(c, next);
    }),
  );

  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status === 403) {
      // csrf(): a form posted from another site.
      return problemResponse(new ForbiddenError(`Cross-site form posts are refused: sign in from ${deps.publicUrl}/.`), c.req.path);
    }
    if (error instanceof AppError) {
      if (error.status >= 500) deps.log.error('request failed', { path: c.req.path, error: error.message });
      const response = problemResponse(error, c.req.path);
      // The rest of an oversized body is never read: the connection cannot be reused (RFC 9110 §15.5.14).
      if (error.status === 413) response.headers.set('connection', 'close');
      return response;
    }
    deps.log.error('unexpected error', { method: c.req.method, path: c.req.path, error: String(error), stack: (error as Error).stack });
    return problemResponse(
      new AppError({ status: 500, type: 'internal', title: 'Internal Server Error', detail: 'Something failed on our side; it was logged. Retry later.' }),
      c.req.path,
    );
  });
  app.notFound((c) => problemResponse(new NotFoundError(`Route ${c.req.method} ${c.req.path}`), c.req.path));

  // The dashboard (`/`, `/items`, `/items/{id}`, `/alerts`, `/people`, `/teams/{team}`, `/login`): server-rendered pages, see web/.
  app.route('/', dashboardRoutes({ db: deps.db, clock: deps.clock, get publicUrl() { return deps.publicUrl; }, resolve, readTimeline }));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.route('/', operationsRoutes({ db: deps.db, clock: deps.clock, metrics, resolve, metricsToken: deps.metricsToken, readyMaxLagSeconds: deps.readyMaxLagSeconds }));
  app.get('/openapi.json', (c) => c.json((openApi ??= buildOpenApi(ALL_OPERATIONS, { version: deps.version ?? '0.1.0', serverUrl: deps.publicUrl }))));
  app.route('/hooks', hookRoutes({ ...deps, metrics }));

  const read = requireScope(resolve, 'read');
  const admin = requireScope(resolve, 'admin');
  const operator = requireScope(resolve, 'operator');
  // Reads and admin writes under one prefix (GET/PUT /v1/settings, POST /v1/people/merge, …): the scope follows the method.
  const readOrAdminWrite = requireScope(resolve, { read: 'read', write: 'admin' });
  app.use('/v1/items/*', read);
  app.use('/v1/items', read);
  app.use('/v1/events/*', read);
  for (const path of ['/v1/graph', '/v1/alerts']) app.use(path, read);
  for (const path of ['/v1/settings', '/v1/links', '/v1/links/*']) app.use(path, readOrAdminWrite);
  app.use('/v1/views/*', read);
  for (const path of ['/v1/teams', '/v1/people', '/v1/people/*']) app.use(path, readOrAdminWrite);
  app.use('/v1/connections/*', admin);
  app.use('/v1/connections', admin);
  app.use('/v1/jobs/*', admin);
  app.use('/v1/deliveries', admin);
  app.use('/v1/deliveries/*', admin);
  app.use('/v1/replay', admin);
  app.use('/v1/tokens/*', admin);
  app.use('/v1/tokens', admin);
  app.use('/v1/export', admin);
  app.use('/v1/audit', admin);
  app.use('/v1/subscriptions', admin);
  app.use('/v1/subscriptions/*', admin);
  app.use('/v1/tenants/*', operator);
  app.use('/v1/tenants', operator);
  app.route('/v1/items', itemRoutes({ db: deps.db, clock: deps.clock, readTimeline }));
  app.route('/v1/events', eventRoutes({ ...(deps.bus ? { bus: deps.bus } : {}), db: deps.db, clock: deps.clock }));
  app.route('/v1', dependencyRoutes(deps));
  app.route('/v1/views', viewRoutes({ db: deps.db, clock: deps.clock }));
  app.route('/v1/teams', teamRoutes(deps));
  app.route('/v1/people', peopleRoutes(deps));
  app.route('/v1/people', personErasureRoutes(deps));
  app.route('/v1/export', exportRoutes(deps));
  app.route('/v1/connections', connectionRoutes(deps));
  app.route('/v1/jobs', jobRoutes(deps));
  app.route('/v1/deliveries', deliveryRoutes(deps));
  app.route('/v1/replay', replayRoutes(deps));
  app.route('/v1/tokens', tokenRoutes(deps));
  app.route('/v1/tenants', tenantRoutes(deps));
  app.route('/v1/audit', auditRoutes(deps));
  app.route(
    '/v1/subscriptions',
    subscriptionRoutes({
      db: deps.db,
      clock: deps.clock,
      webhookTargets: deps.webhookTargets ?? { allowPrivate: false, resolver: systemResolver },
      ...(deps.onSubscriptionWork ? { onSubscriptionWork: deps.onSubscriptionWork } : {}),
      ...(deps.onEvents ? { onEvents: deps.onEvents } : {}),
    }),
  );
  return app;
};
