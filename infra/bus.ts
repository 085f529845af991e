import { EVENT_SOURCE } from '../core/events.ts';
import { DEAD_LETTER_RETENTION_SECONDS, EXAMPLE_ALERT_PATTERN, isProductionStage } from './definitions.ts';

/** The bus every `work.*` event is published to (source `tributary`, detail-type = event type). */
export const bus = new sst.aws.Bus('Events');

/** Every event, kept for replay (`aws events start-replay`) when a consumer needs to catch up. */
export const archive = new aws.cloudwatch.EventArchive('EventsArchive', {
  eventSourceArn: bus.arn,
  description: 'Tributary events, for replay',
  eventPattern: JSON.stringify({ source: [EVENT_SOURCE] }),
  retentionDays: isProductionStage($app.stage) ? 365 : 14,
});

/** Events a rule could not deliver to its target after its retries. */
export const busDeadLetters = new sst.aws.Queue('EventsDeadLetter', {
  transform: { queue: { messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS } },
});

new aws.sqs.QueuePolicy('EventsDeadLetterPolicy', {
  queueUrl: busDeadLetters.url,
  policy: $jsonStringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: busDeadLetters.arn,
        Condition: { ArnLike: { 'aws:SourceArn': $interpolate`arn:aws:events:*:*:rule/${bus.name}/*` } },
      },
    ],
  }),
});

/**
 * The example subscriber: raised alerts go to an SQS queue that automation polls. Deliveries the
 * queue refuses are retried for a day, then parked in the dead-letter queue.
 */
export const alerts = new sst.aws.Queue('Alerts');

bus.subscribeQueue('AlertsRule', alerts, {
  pattern: EXAMPLE_ALERT_PATTERN,
  transform: {
    target: (args) => {
      args.deadLetterConfig = { arn: busDeadLetters.arn };
      args.retryPolicy = { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86_400 };
    },
  },
});
