import type { Context, ScheduledEvent } from 'aws-lambda';
import { type SweepReport, sweepStragglers } from '../../pipeline/sweep.ts';
import { type AlertSweepReport, sweepAlerts } from '../../pipeline/alerts.ts';
import { type LambdaRuntime, lambdaRuntime } from './runtime.ts';

/** Stop starting new records this long before the function's timeout. */
const SAFETY_MARGIN_MS = 10_000;

/**
 * The scheduled sweep (an EventBridge Scheduler/cron event every few minutes): catches deliveries
 * and outbox records the stream-triggered functions did not finish (pipeline/sweep.ts), then
 * re-evaluates open items for time-based alerts (pipeline/alerts.ts). Their events wait on the
 * outbox queue, where the stream-triggered publisher picks them up.
 */
export const createSweepHandler =
  (runtime: LambdaRuntime) =>
  async (event: ScheduledEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SweepReport & { alerts: AlertSweepReport }> => {
    const { db, connectors, clock, log } = runtime;
    const remaining = context?.getRemainingTimeInMillis();
    log.info('sweep started', { scheduledAt: event.time, eventId: event.id });
    const deadline = remaining === undefined ? {} : { deadline: Date.now() + remaining - SAFETY_MARGIN_MS };
    const report = await sweepStragglers({ db, connectors, clock, log, publisher: runtime.publisher() }, deadline);
    return { ...report, alerts: await sweepAlerts({ db, clock, log }, deadline) };
  };

let cached: ReturnType<typeof createSweepHandler> | undefined;

export const handler = async (event: ScheduledEvent, context: Context) => {
  cached ??= createSweepHandler(await lambdaRuntime());
  return cached(event, context);
};
