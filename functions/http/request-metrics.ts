import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import type { HubMetrics } from '../../pipeline/hub-metrics.ts';

/**
 * The route pattern that answered (`/v1/items/:id`), never the raw path: ids in paths would make
 * one series per item. Middleware registered with `use` match every method (`ALL`); the last
 * route registered for a method is the handler. Requests no handler matched share `unmatched`.
 */
const routeOf = (c: Context): string => [...matchedRoutes(c)].reverse().find((r) => r.method !== 'ALL')?.path ?? 'unmatched';

/** Methods outside these (anything a client makes up) share one label value. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Middleware factory: observes each request's latency by method, route pattern and status class (`2xx`…). */
export const requestMetrics = (metrics: HubMetrics) =>
  createMiddleware(async function requestMetricsMiddleware(c, next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      const status = c.res.status;
      metrics.httpDuration.observe(
        { method: METHODS.has(c.req.method) ? c.req.method : 'OTHER', route: routeOf(c), status_class: `${Math.floor(status / 100)}xx` },
        (performance.now() - started) / 1000,
      );
    }
  });
