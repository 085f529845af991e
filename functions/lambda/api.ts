import type { APIGatewayProxyEventV2, Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { type LambdaContext, type LambdaEvent, handle } from 'hono/aws-lambda';
import { ConnectionCache } from '../../pipeline/connection-cache.ts';
import { systemResolver } from '../../bus/webhook-target.ts';
import { createTenant } from '../../store/tenants.ts';
import { DEFAULT_TENANT } from '../http/auth.ts';
import { createApp } from '../http/app.ts';
import { withMetrics } from './metrics.ts';
import { type LambdaRuntime, lambdaRuntime } from './runtime.ts';

/** Function URL and HTTP API (payload 2.0) events share this shape. */
export type HttpEvent = LambdaFunctionURLEvent | APIGatewayProxyEventV2;

/**
 * The API function: the same Hono app as the local mode, behind a Function URL or an HTTP API.
 * Deliveries are recorded by the app; the table's stream then invokes the processor, so nothing
 * runs after the response.
 */
export const createApiHandler = (runtime: LambdaRuntime, options: { resolver?: typeof systemResolver } = {}) => {
  const { config, db, log, clock, connectors } = runtime;
  // Without TRIBUTARY_PUBLIC_URL (a custom domain), webhook URLs use the domain the request came in on.
  let publicUrl = config.TRIBUTARY_PUBLIC_URL ?? '';
  let tenantReady: Promise<unknown> | undefined;
  const app = createApp({
    db,
    connectors,
    connections: new ConnectionCache(db),
    clock,
    log,
    get publicUrl() {
      return publicUrl;
    },
    maxBodyBytes: config.TRIBUTARY_MAX_BODY_BYTES,
    operatorToken: config.TRIBUTARY_ADMIN_TOKEN,
    metrics: runtime.metrics,
    metricsToken: config.TRIBUTARY_METRICS_TOKEN,
    readyMaxLagSeconds: config.TRIBUTARY_READY_MAX_LAG_SECONDS,
    // Subscription targets are checked here at creation; the dispatcher checks them again at every send.
    webhookTargets: { allowPrivate: config.TRIBUTARY_ALLOW_PRIVATE_TARGETS, resolver: options.resolver ?? systemResolver },
  });
  const serve = handle(app);
  return async (event: HttpEvent, context?: Context) =>
    withMetrics(runtime, async () => {
      publicUrl ||= `https://${event.requestContext.domainName}`;
      // The operator token acts in tenant `default`, created once per cold start (a conditional put).
      tenantReady ??= createTenant(db, { id: DEFAULT_TENANT, name: 'Default', createdAt: clock().toISOString() }).catch((error: unknown) => {
        tenantReady = undefined;
        throw error;
      });
      await tenantReady;
      // @types/aws-lambda and Hono type the same payload slightly differently (`body?: string` vs `string | null`).
      return serve(event as unknown as LambdaEvent, context as unknown as LambdaContext | undefined);
    });
};

let cached: ReturnType<typeof createApiHandler> | undefined;

export const handler = async (event: HttpEvent, context: Context) => {
  cached ??= createApiHandler(await lambdaRuntime());
  return cached(event, context);
};
