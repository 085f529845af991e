import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { subscriptionCacheFor, matchAndEnqueue } from '../../bus/subscription-matching.ts';
import { type DispatchDeps, dispatchSubscription } from '../../bus/webhook-dispatcher.ts';
import { EVENT_SOURCE, EventEnvelope } from '../../core/events.ts';
import { getEventPayload } from '../../store/event-payloads.ts';
import { type QueuedDelivery, getDelivery } from '../../store/subscriptions.ts';
import { withMetrics } from './metrics.ts';
import { type LambdaRuntime, lambdaRuntime } from './runtime.ts';

/**
 * The webhook dispatcher in AWS: an EventBridge rule puts every hub event on an SQS queue
 * (infra/subscriptions.ts), and this function, for a batch of messages, matches each event against
 * the tenant's subscriptions (cached 30 s), queues its deliveries in the table (idempotent: a
 * message received again queues nothing twice), then makes one pass per subscription the batch
 * matched, which sends what is due for it.
 *
 * Bounded per subscription: one pass per subscription for the whole batch, however many of its
 * events the subscription matched, and each send takes one of the subscription's send slots in
 * the table (store/subscriptions.ts): 2, or 1 while its attempts fail. So a subscription's sends
 * run in at most that many places at once across invocations and the sweep, and a receiver that
 * hangs holds one invocation's send for 15 s while the other subscriptions of the batch (and of
 * other invocations) go on. A pass that finds every slot held leaves what is due to the holders
 * and the sweep. The event source mapping bounds the invocations at once (infra/definitions.ts).
 *
 * Retries: the first, about 5 s later, is made within the invocation. A message whose delivery is
 * due again within SQS's reach (message delays and visibility stop at 15 minutes) is reported as a
 * batch item failure, so SQS hands it back after the queue's visibility timeout (5 minutes: the
 * 5-minute retry). Later retries come from the table's queue, which the scheduled sweep drives
 * (functions/lambda/sweep.ts), and so does a delivery this invocation could not start (its
 * subscription's slots were held, or time ran out). A message that fails in itself (storage down)
 * is retried the same way, then parked in the dead-letter queue; the event stays in the log, and a
 * replay sends it.
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
/** A delivery due now that the first pass did not start (slots held, the queue index not there yet) is looked at again this much later. */
const LOOK_AGAIN_MS = 1_000;
/** Stop starting sends this long before the function's timeout. */
const SAFETY_MARGIN_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Lane = { tenantId: string; subscriptionId: string };

/** One message of the batch: the event's deliveries to active subscriptions, or a failure (SQS hands it back). */
interface Message {
  record: SQSRecord;
  failed: boolean;
  eventId?: string;
  lanes: Lane[];
}

export const createDispatcherHandler =
  (runtime: LambdaRuntime) =>
  (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> =>
    withMetrics(runtime, () => dispatchBatch(runtime, event, context));

const dispatchBatch = async (runtime: LambdaRuntime, event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
  const { db, clock, log, config } = runtime;
  const deadline = context ? Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS : undefined;
  const deps: DispatchDeps = { db, clock, log, send: runtime.webhookSender(), publicUrl: () => config.TRIBUTARY_PUBLIC_URL };
  const cache = subscriptionCacheFor(db);

  // The messages of a batch (at most 10) queued at once; one that fails is handed back alone.
  const messages = await Promise.all(
    event.Records.map(async (record): Promise<Message> => {
      try {
        return await queueRecord(runtime, cache, record);
      } catch (error) {
        log.warn('webhook dispatch of a message failed, SQS will hand it back', { messageId: record.messageId, error: String(error) });
        return { record, failed: true, lanes: [] };
      }
    }),
  );

  // One pass per subscription for the whole batch, all subscriptions at once: a slow receiver of one must not use up the others' time.
  const lanes = new Map<string, Lane>(messages.flatMap((m) => m.lanes.map((lane): [string, Lane] => [lane.subscriptionId, lane])));
  const failedLanes = new Set<string>();
  const run = (ids: Iterable<string>) =>
    Promise.all(
      [...ids].map(async (subscriptionId) => {
        const { tenantId } = lanes.get(subscriptionId)!;
        try {
          await dispatchSubscription(deps, tenantId, subscriptionId, { slotsInTable: true, ...(deadline === undefined ? {} : { deadline }) });
        } catch (error) {
          failedLanes.add(subscriptionId);
          log.warn('webhook dispatch for a subscription failed, SQS will hand its messages back', { tenantId, subscriptionId, error: String(error) });
        }
      }),
    );
  await run(lanes.keys());

  // Per subscription: the 5 s retry within the invocation, and one more look at what was due yet not started.
  const states = await deliveryStates(runtime, messages);
  const soonest = new Map<string, number>();
  for (const d of states.values()) {
    if (d.status !== 'pending' || d.claim || !d.nextAt) continue;
    soonest.set(d.subscriptionId, Math.min(soonest.get(d.subscriptionId) ?? Number.POSITIVE_INFINITY, Date.parse(d.nextAt)));
  }
  await Promise.all(
    [...soonest].map(async ([subscriptionId, dueAt]) => {
      const wait = Math.max(LOOK_AGAIN_MS, dueAt - clock().getTime() + 50);
      if (wait > WAIT_IN_INVOCATION_MS || (deadline !== undefined && Date.now() + wait + 20_000 >= deadline)) return;
      await sleep(wait);
      await run([subscriptionId]);
      for (const [key, d] of await deliveryStates(runtime, messages, subscriptionId)) states.set(key, d);
    }),
  );

  const handBack = (m: Message): boolean => {
    if (m.failed || m.lanes.some((lane) => failedLanes.has(lane.subscriptionId))) return true;
    const at = clock().getTime();
    // A retry scheduled within SQS's reach: SQS brings the message back for it. A delivery due now
    // that was not started (its slots held elsewhere, or no time left) is the sweep's, so that a
    // busy subscription never parks its messages in the dead-letter queue.
    return m.lanes.some((lane) => {
      const d = states.get(deliveryKey(lane.subscriptionId, m.eventId!));
      if (!d || d.status !== 'pending' || d.claim || !d.nextAt) return false;
      const wait = Date.parse(d.nextAt) - at;
      return wait > 0 && wait <= SQS_REACH_MS;
    });
  };
  return { batchItemFailures: messages.filter(handBack).map((m) => ({ itemIdentifier: m.record.messageId })) };
};

const deliveryKey = (subscriptionId: string, eventId: string) => `${subscriptionId}\u0000${eventId}`;

/**
 * The batch's deliveries (to one subscription, or to all) as stored now (strongly consistent). A
 * message whose delivery cannot be read is marked failed: SQS hands it back.
 */
const deliveryStates = async (runtime: LambdaRuntime, messages: Message[], only?: string): Promise<Map<string, QueuedDelivery>> => {
  const states = new Map<string, QueuedDelivery>();
  await Promise.all(
    messages.flatMap((m) =>
      m.lanes
        .filter((lane) => only === undefined || lane.subscriptionId === only)
        .map(async (lane) => {
          try {
            const delivery = await getDelivery(runtime.db, lane.tenantId, lane.subscriptionId, m.eventId!);
            if (delivery) states.set(deliveryKey(lane.subscriptionId, m.eventId!), delivery);
          } catch (error) {
            m.failed = true;
            runtime.log.warn('webhook dispatcher: a delivery could not be read, SQS will hand its message back', { messageId: m.record.messageId, error: String(error) });
          }
        }),
    ),
  );
  return states;
};

/** Queues one message's event for the subscriptions it matches; the active ones are the lanes to send for. */
const queueRecord = async (runtime: LambdaRuntime, cache: ReturnType<typeof subscriptionCacheFor>, record: SQSRecord): Promise<Message> => {
  const parsed = BusMessage.safeParse(JSON.parse(record.body));
  if (!parsed.success) {
    // Not an event of the hub: nothing to deliver, and sending it back would not change that.
    runtime.log.warn('webhook dispatcher: a message that is not a hub event was dropped', { messageId: record.messageId });
    return { record, failed: false, lanes: [] };
  }
  const { pointer, ...envelope } = parsed.data.detail;
  const full = pointer ? await getEventPayload(runtime.db, envelope.tenantId, envelope.id) : (envelope as EventEnvelope);
  if (!full) throw new Error(`the full event ${envelope.id} behind its pointer is not kept`);
  const { matched } = await matchAndEnqueue({ db: runtime.db, clock: runtime.clock, cache }, [full]);
  // Paused and disabled subscriptions keep the event queued and send nothing: no reason to hand the message back for them.
  const active = new Set((await cache.get(full.tenantId)).filter((s) => s.subscription.status === 'active').map((s) => s.subscription.id));
  const lanes = [...new Map(matched.filter((m) => active.has(m.subscriptionId)).map((m): [string, Lane] => [m.subscriptionId, { tenantId: m.tenantId, subscriptionId: m.subscriptionId }])).values()];
  return { record, failed: false, eventId: full.id, lanes };
};

let cached: ReturnType<typeof createDispatcherHandler> | undefined;

export const handler = async (event: SQSEvent, context: Context) => {
  cached ??= createDispatcherHandler(await lambdaRuntime());
  return cached(event, context);
};
