/**
 * The pure part of the infrastructure: values derived from the code's own declarations (table
 * schema, stream filters, handler paths), kept free of SST globals so tests can check them and
 * `infra/*.ts` only turns them into resources.
 */
import { EVENT_SOURCE } from '../core/events.ts';
import { STREAM_FILTERS } from '../store/stream-filters.ts';
import { type IndexName, TABLE_SCHEMA, projectionOf } from '../store/table.ts';

/** Stages whose data is kept: `sst remove` retains the table and the bus, and the table refuses deletion. */
export const PRODUCTION_STAGES: readonly string[] = ['prod', 'production'];
export const isProductionStage = (stage: string): boolean => PRODUCTION_STAGES.includes(stage);

/**
 * Packages installed beside each function's bundle (`node_modules/`) instead of bundled into it.
 * jira.js loads only for a backfill or a reconciliation, but it imports all of zod: bundled, that
 * whole zod lands in a chunk shared with the entry and every cold start loads it (about 340 KiB).
 */
export const UNBUNDLED_PACKAGES: readonly string[] = ['jira.js'];

/**
 * Which build of a package the bundler takes: the ES module build where a package has one. The AWS
 * SDK ships both, and esbuild's default for Node (`main` first) took its CommonJS build: every
 * module of it wrapped in a function that Node compiles and runs whole at the cold start. Its ES
 * build is scope-hoisted and tree-shaken instead: each bundle lost about a quarter of a megabyte
 * and its module init fell by a third to a half (`npm run bench -- --only bundles`). Packages with
 * `exports` are resolved by those.
 */
export const BUNDLE_MAIN_FIELDS: readonly string[] = ['module', 'main'];

/** Every function: Node 22 on Graviton (arm64 costs about 20 % less per GB-second than x86). */
export const FUNCTION_DEFAULTS = {
  runtime: 'nodejs22.x' as const,
  architecture: 'arm64' as const,
  nodejs: { install: [...UNBUNDLED_PACKAGES], esbuild: { mainFields: [...BUNDLE_MAIN_FIELDS] } },
};

/** Handler of each function, as `file.export` from the repository root. */
export const HANDLERS = {
  api: 'functions/lambda/api.handler',
  processor: 'functions/lambda/processor.handler',
  publisher: 'functions/lambda/publisher.handler',
  sweep: 'functions/lambda/sweep.handler',
  dispatcher: 'functions/lambda/dispatcher.handler',
} as const;

/** `sst.aws.Dynamo` arguments of the work index, derived from TABLE_SCHEMA (the code's createTableInput uses the same). */
export const tableArgs = () => {
  const indexes = Object.entries(TABLE_SCHEMA.indexes);
  const fields = [TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey, ...indexes.flatMap(([, index]) => [index.partitionKey, index.sortKey])];
  return {
    fields: Object.fromEntries(fields.map((name) => [name, 'string' as const])),
    primaryIndex: { hashKey: TABLE_SCHEMA.partitionKey, rangeKey: TABLE_SCHEMA.sortKey },
    globalIndexes: Object.fromEntries(
      indexes.map(([name, index]) => {
        const { nonKeyAttributes } = projectionOf(name as IndexName);
        return [name, { hashKey: index.partitionKey, rangeKey: index.sortKey, projection: nonKeyAttributes ? [...nonKeyAttributes] : ('all' as const) }];
      }),
    ),
    ttl: TABLE_SCHEMA.ttlAttribute,
    stream: 'new-and-old-images' as const,
  };
};

/** Which stream records invoke which function (store/stream-filters.ts). */
export const streamFilters = (fn: keyof typeof STREAM_FILTERS) => STREAM_FILTERS[fn].map((pattern) => structuredClone(pattern));

/**
 * Event source mapping of the stream functions. Failed records are retried from the first failure
 * (partial batch responses), bisecting the batch to isolate a poison record, at most 5 times or
 * for an hour; then the record's position goes to the dead-letter queue and the scheduled sweep
 * finds the record itself through the queue index. TRIM_HORIZON: records written before the
 * mapping existed (first deploy) are read too.
 */
export const STREAM_MAPPING = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 25,
  maximumBatchingWindowInSeconds: 1,
  functionResponseTypes: ['ReportBatchItemFailures'],
  bisectBatchOnFunctionError: true,
  maximumRetryAttempts: 5,
  maximumRecordAgeInSeconds: 3600,
  /** concurrent batches per shard; records of one item stay in order (same partition key) */
  parallelizationFactor: 2,
};

export const SWEEP_SCHEDULE = 'rate(5 minutes)' as const;

/** Dead-letter queues keep messages 14 days, SQS's maximum. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 86_400;

/** The example subscription: automation that reacts to raised alerts reads them from an SQS queue. */
export const EXAMPLE_ALERT_PATTERN = { source: ['tributary'], detailType: ['work.alert.raised'] };

/** Namespace and stage dimension of the figures the functions print as EMF (pipeline/emf.ts). */
export const METRICS_NAMESPACE = 'Tributary';
export const metricDimensions = (stage: string) => ({ Stage: stage });

/**
 * Alarm on processing lag: the age of the oldest delivery waiting for the processor, which the
 * sweep measures every SWEEP_SCHEDULE (EMF `ProcessingLagSeconds`). The stream normally processes
 * within a second, so 5 minutes of lag on two sweeps in a row means the processor is failing or
 * throttled. No data counts as breaching: a sweep that stopped reporting is a problem too.
 */
export const PROCESSING_LAG_ALARM = {
  metricName: 'ProcessingLagSeconds',
  statistic: 'Maximum',
  period: 300,
  evaluationPeriods: 2,
  threshold: 300,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'breaching',
} as const;

/**
 * Alarm on a dead-letter queue holding anything: each message there is a stream batch or a bus
 * delivery that exhausted its retries (docs/operations.md says what to do). SQS reports queue
 * metrics every 5 minutes, and an idle queue reports none, which is fine.
 */
export const DEAD_LETTER_ALARM = {
  namespace: 'AWS/SQS',
  metricName: 'ApproximateNumberOfMessagesVisible',
  statistic: 'Maximum',
  period: 300,
  evaluationPeriods: 1,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'notBreaching',
} as const;

/**
 * Webhook subscriptions in AWS (infra/subscriptions.ts): a bus rule puts every hub event on an SQS
 * queue, and the dispatcher function matches, queues and sends. SQS hands a message back after
 * the visibility timeout when one of its deliveries is due again within 15 minutes (SQS's reach):
 * the 5-minute retry. The timeout covers the function's (2 minutes: a 15 s send, the 5 s retry
 * waited for in the invocation, the next send). Later retries come from the sweep.
 */
export const SUBSCRIPTION_EVENTS_PATTERN = { source: [EVENT_SOURCE] };
export const SUBSCRIPTION_QUEUE = { visibilityTimeout: '5 minutes', maxReceiveCount: 5 } as const;
export const DISPATCHER_FUNCTION = { memory: '512 MB', timeout: '2 minutes' } as const;
/** Up to 10 events per invocation, collected for at most a second; failed messages alone come back. */
export const DISPATCHER_BATCH = { size: 10, window: '1 second', partialResponses: true } as const;
/**
 * Dispatcher invocations at once (the SQS event source mapping's maximum concurrency; Lambda allows
 * 2 to 1,000): 5 % of an account's default 1,000, so a flood of events for slow receivers never
 * takes the concurrency ingest needs (Api, Processor, Publisher). Beyond it, messages wait in the
 * queue (no throttling, no receive counted). Each subscription sends from at most 2 places at once,
 * 1 while it fails (its send slots in the table, bus/webhook-dispatcher.ts), so a receiver that
 * hangs holds at most one invocation, and about 50 of them hang at once before other
 * subscriptions' events wait.
 */
export const DISPATCHER_CONCURRENCY = 50;
