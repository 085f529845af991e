import type { Context, ScheduledEvent } from 'aws-lambda';
import { type SweepReport, sweepStragglers } from '../../pipeline/sweep.ts';
import { type AlertSweepReport, sweepAlerts } from '../../pipeline/alerts.ts';
import { sweepViews } from '../../pipeline/views-sweep.ts';
import { collectStoreGauges } from '../../pipeline/hub-metrics.ts';
import { type DispatchAllReport, dispatchAll } from '../../bus/webhook-dispatcher.ts';
import { listAllSubscriptions } from '../../store/subscriptions.ts';
import { withMetrics } from './metrics.ts';
import { type LambdaRuntime, lambdaRuntime } from './runtime.ts';

/** Stop starting new records this long before the function's timeout. */
const SAFETY_MARGIN_MS = 10_000;

/**
 * The scheduled sweep (an EventBridge Scheduler/cron event every few minutes): catches deliveries
 * and outbox records the stream-triggered functions did not finish (pipeline/sweep.ts), then
 * re-evaluates open items for time-based alerts (pipeline/alerts.ts). Their events wait on the
 * outbox queue, where the stream-triggered publisher picks them up. It also prints the
 * store-derived figures (processing lag, queue depths, open alerts) as EMF, measured before it
 * catches up, so they show what the stream left behind; infra/monitoring.ts alarms on the lag.
 * Last, it sends the webhook deliveries that are due (retries later than SQS can delay them, and
 * deliveries a dispatcher left claimed when it stopped), and disables subscriptions that have
 * failed for a day (bus/webhook-dispatcher.ts).
 */
export const createSweepHandler =
  (runtime: LambdaRuntime) =>
  (event: ScheduledEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SweepReport & { alerts: AlertSweepReport; webhooks?: DispatchAllReport }> =>
    withMetrics(runtime, async () => {
      const { db, connectors, clock, log } = runtime;
      const remaining = context?.getRemainingTimeInMillis();
      await collectStoreGauges(runtime.metrics, db, clock()).catch((error: unknown) => log.warn('figures could not be read', { error: String(error) }));
      log.info('sweep started', { scheduledAt: event.time, eventId: event.id });
      const deadline = remaining === undefined ? {} : { deadline: Date.now() + remaining - SAFETY_MARGIN_MS };
      const report = await sweepStragglers({ db, connectors, clock, log, publisher: runtime.publisher() }, deadline);
      const alerts = await sweepAlerts({ db, clock, log }, deadline);
      // Blocked-counter repair and the weekly digests (pipeline/views-sweep.ts); it logs its own report.
      await sweepViews({ db, clock, log, publisher: runtime.publisher() }, deadline).catch((error: unknown) => log.warn('views sweep failed', { error: String(error) }));
      const webhooks = await dispatchAll(
        { db, clock, log, send: runtime.webhookSender(), publicUrl: () => runtime.config.TRIBUTARY_PUBLIC_URL },
        { ...deadline, listAll: () => listAllSubscriptions(db) },
      ).catch((error: unknown) => {
        log.warn('webhook dispatch failed', { error: String(error) });
        return undefined;
      });
      return { ...report, alerts, ...(webhooks ? { webhooks } : {}) };
    });

let cached: ReturnType<typeof createSweepHandler> | undefined;

export const handler = async (event: ScheduledEvent, context: Context) => {
  cached ??= createSweepHandler(await lambdaRuntime());
  return cached(event, context);
};
