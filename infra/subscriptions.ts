import { api } from './api.ts';
import { bus, busDeadLetters } from './bus.ts';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  DISPATCHER_BATCH,
  DISPATCHER_CONCURRENCY,
  DISPATCHER_FUNCTION,
  FUNCTION_DEFAULTS,
  HANDLERS,
  SUBSCRIPTION_EVENTS_PATTERN,
  SUBSCRIPTION_QUEUE,
} from './definitions.ts';
import { table } from './storage.ts';

/**
 * Webhook subscriptions: every hub event goes from the bus to the `SubscriptionEvents` queue, and
 * the dispatcher function (functions/lambda/dispatcher.ts) matches each against the tenant's
 * subscriptions, queues its deliveries in the table and sends them, at most DISPATCHER_CONCURRENCY
 * invocations at once, each subscription from at most 2 places at once. A message handed back five
 * times (storage failing) is parked in `SubscriptionEventsDeadLetter`; its event stays in the event
 * log, so `POST /v1/subscriptions/{id}/replay` sends it. Retries hours apart come from the table's
 * queue and the scheduled sweep (infra/jobs.ts).
 */
export const subscriptionDeadLetters = new sst.aws.Queue('SubscriptionEventsDeadLetter', {
  transform: { queue: { messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS } },
});

export const subscriptionEvents = new sst.aws.Queue('SubscriptionEvents', {
  visibilityTimeout: SUBSCRIPTION_QUEUE.visibilityTimeout,
  dlq: { queue: subscriptionDeadLetters.arn, retry: SUBSCRIPTION_QUEUE.maxReceiveCount },
});

bus.subscribeQueue('SubscriptionEventsRule', subscriptionEvents, {
  pattern: SUBSCRIPTION_EVENTS_PATTERN,
  transform: {
    target: (args) => {
      args.deadLetterConfig = { arn: busDeadLetters.arn };
      args.retryPolicy = { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86_400 };
    },
  },
});

export const dispatcher = subscriptionEvents.subscribe(
  {
    handler: HANDLERS.dispatcher,
    ...FUNCTION_DEFAULTS,
    ...DISPATCHER_FUNCTION,
    link: [table],
    environment: {
      TRIBUTARY_LOG_LEVEL: 'info',
      // Slack messages link to the dashboard: the custom domain when there is one, else the Function URL.
      TRIBUTARY_PUBLIC_URL: process.env.TRIBUTARY_PUBLIC_URL ?? api.url,
    },
  },
  {
    batch: DISPATCHER_BATCH,
    // Invocations at once: bounded, so that slow receivers never take the concurrency ingest needs.
    transform: { eventSourceMapping: { scalingConfig: { maximumConcurrency: DISPATCHER_CONCURRENCY } } },
  },
);
