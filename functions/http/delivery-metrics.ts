import { createMiddleware } from 'hono/factory';
import type { ConnectorRegistry } from '../../connectors/index.ts';
import { AppError } from '../../core/errors.ts';
import type { HubMetrics } from '../../pipeline/hub-metrics.ts';

/**
 * Middleware factory for the webhook route: counts every delivery received and every one refused,
 * by the problem type it got (`invalid-signature`, `not-found`, `payload-too-large`…). Accepted and
 * duplicate deliveries are counted by the ack path itself (pipeline/ingest.ts). The source comes
 * from the URL, so only sources this hub has a connector for become label values.
 */
export const countDeliveries = (deps: { connectors: ConnectorRegistry; metrics?: HubMetrics }) =>
  createMiddleware(async function countDeliveriesMiddleware(c, next) {
    const { metrics } = deps;
    if (!metrics) return next();
    const requested = c.req.param('source') ?? '';
    const source = deps.connectors.get(requested) ? requested : 'unknown';
    metrics.received.inc({ source });
    await next();
    // Hono hands a thrown error to onError and records it on the context; next() itself resolves.
    if (c.res.status >= 400) {
      metrics.rejected.inc({ source, reason: c.error instanceof AppError ? c.error.type : c.res.status >= 500 ? 'internal' : String(c.res.status) });
    }
  });
