import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { subscriptionCacheFor, matchAndEnqueue } from '../../bus/subscription-matching.ts';
import { type DispatchDeps, dispatchSubscription } from '../../bus/webhook-dispatcher.ts';
import { EVENT_SOURCE, EventEnvelope } from '../../core/events.ts';
import { getEventPayload } from '../../store/event-payloads.ts';
import { getDelivery } from '../../store/subscriptions.ts';
import { withMetrics } from './metrics.ts';
import { type LambdaRuntime, lambdaRuntime } from './runtime.ts';

/**
 * The webhook dispatcher in AWS: an EventBridge rule puts every hub event on an SQS queue
 * (infra/subscriptions.ts), and this function, for each message, matches the event against the
 * tenant's subscriptions (cached 30 s), queues its deliveries in the table (idempotent: a message
 * received again queues nothing twice), and sends what is due for those subscriptions.
 *
 * Retries: the first, about 5 s later, is made within the invocation. A message whose delivery is
 * due again within SQS's reach (message delays and visibility stop at 15 minutes) is reported as a
 * batch item failure, so SQS hands it back after the queue's visibility timeout (5 minutes: the
 * 5-minute retry). Later retries come from the table's queue, which the scheduled sweep drives
 * (functions/lambda/sweep.ts). A message that fails in itself (storage down) is retried the same
 * way, then parked in the dead-letter queue; the event stays in the log, and a replay sends it.
 */

/** The EventBridge event as the rule writes it to the queue: the envelope (or its pointer) in `detail`. */
const BusMessage = z.object({
  source: z.literal(EVENT_SOURCE),
  'detail-type': z.string(),
  detail: EventEnvelope.extend({ pointer: z.object({ href: z.string() }).optional() }).loose(),
});

/** SQS gives a message back at the earliest after the visibility timeout, and never delays beyond 15 minutes. */
export const SQS_REACH_MS = 15 * 60_000;
/** A retry due this soon is waited for within the invocation (the 5 s one). */
const WAIT_IN_INVOCATION_MS = 10_000;
/** Stop starting sends this long before the function's timeout. */
const SAFETY_MARGIN_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const createDispatcherHandler =
  (runtime: LambdaRuntime) =>
  (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> =>
    withMetrics(runtime, () => dispatchBatch(runtime, event, context));

const dispatchBatch = async (runtime: LambdaRuntime, event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
  const { db, clock, log, config } = runtime;
  const deadline = context ? Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS : undefined;
  const deps: DispatchDeps = { db, clock, log, send: runtime.webhookSender(), publicUrl: () => config.TRIBUTARY_PUBLIC_URL };
  const cache = subscriptionCacheFor(db);
  // The messages of a batch (at most 10) at once: a slow receiver of one must not use up the others' time.
  const failed = await Promise.all(
    event.Records.map(async (record) => {
      try {
        return await dispatchRecord(runtime, deps, cache, record, deadline);
      } catch (error) {
        log.warn('webhook dispatch of a message failed, SQS will hand it back', { messageId: record.messageId, error: String(error) });
        return true;
      }
    }),
  );
  return { batchItemFailures: event.Records.filter((_, i) => failed[i]).map((record) => ({ itemIdentifier: record.messageId })) };
};

/** Queues and sends one event's deliveries; true when one of them is due again within SQS's reach. */
const dispatchRecord = async (
  runtime: LambdaRuntime,
  deps: DispatchDeps,
  cache: ReturnType<typeof subscriptionCacheFor>,
  record: SQSRecord,
  deadline: number | undefined,
): Promise<boolean> => {
  const parsed = BusMessage.safeParse(JSON.parse(record.body));
  if (!parsed.success) {
    // Not an event of the hub: nothing to deliver, and sending it back would not change that.
    runtime.log.warn('webhook dispatcher: a message that is not a hub event was dropped', { messageId: record.messageId });
    return false;
  }
  const { pointer, ...envelope } = parsed.data.detail;
  const full = pointer ? await getEventPayload(runtime.db, envelope.tenantId, envelope.id) : (envelope as EventEnvelope);
  if (!full) throw new Error(`the full event ${envelope.id} behind its pointer is not kept`);
  const { matched: all } = await matchAndEnqueue({ db: runtime.db, clock: runtime.clock, cache }, [full]);
  // Paused and disabled subscriptions keep the event queued and send nothing: no reason to hand the message back for them.
  const active = new Set((await cache.get(full.tenantId)).filter((s) => s.subscription.status === 'active').map((s) => s.subscription.id));
  const matched = all.filter((m) => active.has(m.subscriptionId));
  const lanes = [...new Map(matched.map((m) => [m.subscriptionId, m])).values()];
  const run = () => Promise.all(lanes.map((m) => dispatchSubscription(deps, m.tenantId, m.subscriptionId, deadline === undefined ? {} : { deadline })));
  const dueAgain = async (): Promise<number | undefined> => {
    let soonest: number | undefined;
    for (const m of matched) {
      const delivery = await getDelivery(runtime.db, m.tenantId, m.subscriptionId, full.id);
      if (delivery?.status === 'pending' && delivery.nextAt) soonest = Math.min(soonest ?? Number.POSITIVE_INFINITY, Date.parse(delivery.nextAt));
    }
    return soonest;
  };
  await run();
  let soonest = await dueAgain();
  const wait = soonest === undefined ? undefined : soonest - runtime.clock().getTime();
  if (wait !== undefined && wait <= WAIT_IN_INVOCATION_MS && (deadline === undefined || Date.now() + wait + 20_000 < deadline)) {
    await sleep(Math.max(0, wait) + 50);
    await run();
    soonest = await dueAgain();
  }
  return soonest !== undefined && soonest - runtime.clock().getTime() <= SQS_REACH_MS;
};

let cached: ReturnType<typeof createDispatcherHandler> | undefined;

export const handler = async (event: SQSEvent, context: Context) => {
  cached ??= createDispatcherHandler(await lambdaRuntime());
  return cached(event, context);
};
