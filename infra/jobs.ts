import { api } from './api.ts';
import { bus } from './bus.ts';
import { DEAD_LETTER_RETENTION_SECONDS, FUNCTION_DEFAULTS, HANDLERS, STREAM_MAPPING, SWEEP_SCHEDULE, streamFilters } from './definitions.ts';
import { table } from './storage.ts';

/** Where a stream batch goes after its retries: the shard and sequence range of the records it held. */
export const streamDeadLetters = new sst.aws.Queue('StreamDeadLetter', {
  transform: { queue: { messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS } },
});

const subscribeToStream = (name: string, handler: string, filters: Record<string, unknown>[], link: unknown[]) =>
  table.subscribe(
    name,
    { handler, ...FUNCTION_DEFAULTS, memory: '1024 MB', timeout: '1 minute', link: [table, streamDeadLetters, ...link] },
    {
      filters,
      transform: {
        eventSourceMapping: (args) => {
          Object.assign(args, STREAM_MAPPING);
          args.destinationConfig = { onFailure: { destinationArn: streamDeadLetters.arn } };
        },
      },
    },
  );

/** Inbox records → processDelivery (normalize, merge, write items with their events). */
export const processor = subscribeToStream('Processor', HANDLERS.processor, streamFilters('processor'), []);

/** Outbox records → drainItemOutbox → EventBridge. */
export const publisher = subscribeToStream('Publisher', HANDLERS.publisher, streamFilters('publisher'), [bus]);

/**
 * Stragglers the stream did not finish (pending deliveries, unpublished events), time-based
 * alerts, and webhook deliveries due from the table's queue (retries later than SQS can delay).
 */
export const sweep = new sst.aws.Cron('Sweep', {
  schedule: SWEEP_SCHEDULE,
  function: {
    handler: HANDLERS.sweep,
    ...FUNCTION_DEFAULTS,
    memory: '1024 MB',
    timeout: '5 minutes',
    link: [table, bus],
    // Slack messages of the retries it sends link to the dashboard.
    environment: { TRIBUTARY_PUBLIC_URL: process.env.TRIBUTARY_PUBLIC_URL ?? api.url },
  },
});
