import { busDeadLetters } from './bus.ts';
import { DEAD_LETTER_ALARM, METRICS_NAMESPACE, PROCESSING_LAG_ALARM, metricDimensions } from './definitions.ts';
import { streamDeadLetters } from './jobs.ts';
import { subscriptionDeadLetters } from './subscriptions.ts';

/**
 * CloudWatch alarms on what needs an operator (docs/operations.md, Health and metrics): processing
 * lag, and messages in either dead-letter queue. Each alarm notifies the `Alarms` topic when it
 * fires and when it clears; subscribe an email address or a pager to it after the first deploy.
 */
export const alarmTopic = new aws.sns.Topic('Alarms');

const notify = { alarmActions: [alarmTopic.arn], okActions: [alarmTopic.arn] };

export const processingLagAlarm = new aws.cloudwatch.MetricAlarm('ProcessingLagAlarm', {
  ...PROCESSING_LAG_ALARM,
  namespace: METRICS_NAMESPACE,
  dimensions: metricDimensions($app.stage),
  alarmDescription: 'Deliveries wait for the processor: the oldest pending one is over 5 minutes old (GET /readyz, docs/operations.md).',
  ...notify,
});

const deadLetterAlarm = (name: string, queue: typeof streamDeadLetters, what: string) =>
  new aws.cloudwatch.MetricAlarm(name, {
    ...DEAD_LETTER_ALARM,
    dimensions: { QueueName: queue.nodes.queue.name },
    alarmDescription: `${what} exhausted its retries and waits in a dead-letter queue (docs/operations.md).`,
    ...notify,
  });

export const streamDeadLetterAlarm = deadLetterAlarm('StreamDeadLetterAlarm', streamDeadLetters, 'A stream batch (processor or publisher)');
export const busDeadLetterAlarm = deadLetterAlarm('EventsDeadLetterAlarm', busDeadLetters, 'An event for a bus rule target');
export const subscriptionDeadLetterAlarm = deadLetterAlarm('SubscriptionEventsDeadLetterAlarm', subscriptionDeadLetters, 'An event for webhook subscriptions');
