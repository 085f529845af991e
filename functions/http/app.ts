import { Hono } from 'hono';
import type { ConnectorRegistry } from '../../connectors/index.ts';
import { AppError, NotFoundError } from '../../core/errors.ts';
import type { Clock, Logger } from '../../core/ports.ts';
import type { LocalBus } from '../../bus/local-bus.ts';
import type { ConnectionCache } from '../../pipeline/connection-cache.ts';
import type { Db } from '../../store/db.ts';
import { type AuthEnv, authenticate, requireScope } from './auth.ts';
import { buildOpenApi } from './openapi.ts';
import type { Operation } from './openapi-registry.ts';
import { problemResponse } from './problem.ts';
import { connectionOperations, connectionRoutes } from './routes/connections.ts';
import { eventOperations, eventRoutes } from './routes/events.ts';
import { hookOperations, hookRoutes } from './routes/hooks.ts';
import { itemOperations, itemRoutes } from './routes/items.ts';
import { tenantOperations, tenantRoutes } from './routes/tenants.ts';
import { tokenOperations, tokenRoutes } from './routes/tokens.ts';
import { homePage } from '../../web/home.tsx';

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
  version?: string;
}

const publicOperations: Operation[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness', tag: 'operations', responses: { 200: { description: 'The process is up' } } },
  { method: 'get', path: '/openapi.json', summary: 'This document', tag: 'operations', responses: { 200: { description: 'OpenAPI 3.1' } } },
];

export const ALL_OPERATIONS: readonly Operation[] = [
  ...hookOperations,
  ...itemOperations,
  ...connectionOperations,
  ...tokenOperations,
  ...tenantOperations,
  ...eventOperations,
  ...publicOperations,
];

/** The whole HTTP surface, the same in local mode and behind Lambda. */
export const createApp = (deps: AppDeps) => {
  const resolve = authenticate({ db: deps.db, operatorToken: deps.operatorToken });
  const openApi = buildOpenApi(ALL_OPERATIONS, { version: deps.version ?? '0.1.0', serverUrl: deps.publicUrl });
  const app = new Hono<AuthEnv>();

  app.onError((error, c) => {
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

  app.get('/', (c) => c.html(homePage({ publicUrl: deps.publicUrl })));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/openapi.json', (c) => c.json(openApi));
  app.route('/hooks', hookRoutes(deps));

  const read = requireScope(resolve, 'read');
  const admin = requireScope(resolve, 'admin');
  const operator = requireScope(resolve, 'operator');
  app.use('/v1/items/*', read);
  app.use('/v1/items', read);
  app.use('/v1/events/*', read);
  app.use('/v1/connections/*', admin);
  app.use('/v1/connections', admin);
  app.use('/v1/tokens/*', admin);
  app.use('/v1/tokens', admin);
  app.use('/v1/tenants/*', operator);
  app.use('/v1/tenants', operator);
  app.route('/v1/items', itemRoutes(deps.db));
  app.route('/v1/events', eventRoutes(deps.bus, deps.db));
  app.route('/v1/connections', connectionRoutes(deps));
  app.route('/v1/tokens', tokenRoutes(deps));
  app.route('/v1/tenants', tenantRoutes(deps));
  return app;
};
