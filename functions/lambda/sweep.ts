import type { Context, ScheduledEvent } from 'aws-lambda';
import { type SweepReport, sweepStragglers } from '../../pipeline/sweep.ts';
import { type LambdaRuntime, lambdaRuntime } from './runtime.ts';

/** Stop starting new records this long before the function's timeout. */
const SAFETY_MARGIN_MS = 10_000;

/**
 * The scheduled sweep (an EventBridge Scheduler/cron event every few minutes): catches deliveries
 * and outbox records the stream-triggered functions did not finish. See pipeline/sweep.ts.
 */
export const createSweepHandler =
  (runtime: LambdaRuntime) =>
  async (event: ScheduledEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SweepReport> => {
    const { db, connectors, clock, log } = runtime;
    const remaining = context?.getRemainingTimeInMillis();
    log.info('sweep started', { scheduledAt: event.time, eventId: event.id });
    return sweepStragglers(
      { db, connectors, clock, log, publisher: runtime.publisher() },
      { ...(remaining === undefined ? {} : { deadline: Date.now() + remaining - SAFETY_MARGIN_MS }) },
    );
  };

let cached: ReturnType<typeof createSweepHandler> | undefined;

export const handler = async (event: ScheduledEvent, context: Context) => {
  cached ??= createSweepHandler(await lambdaRuntime());
  return cached(event, context);
};
