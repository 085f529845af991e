import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { countOutcome } from '../../pipeline/hub-metrics.ts';
import { processDelivery } from '../../pipeline/process-delivery.ts';
import { keys } from '../../store/keys.ts';
import { withMetrics } from './metrics.ts';
import { type LambdaRuntime, lambdaRuntime } from './runtime.ts';
import { batchResponse, imageString, runBounded } from './stream.ts';

/** Deliveries of one batch processed at once; they touch different items, or retry their conflicts. */
const CONCURRENCY = 8;

/**
 * The processor: invoked by the table's stream for delivery records on the inbox queue (see
 * store/stream-filters.ts), it runs the same `processDelivery` as the local mode. A delivery to
 * retry (`retry`) or one that threw is reported as a batch item failure, so Lambda invokes again
 * from it, a bounded number of times (infra/jobs.ts); the scheduled sweep picks up whatever remains.
 */
export const createProcessorHandler = (runtime: LambdaRuntime) => (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> =>
  withMetrics(runtime, () => processBatch(runtime, event));

const processBatch = async (runtime: LambdaRuntime, event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const { db, connectors, clock, log } = runtime;
  const inbox = event.Records.filter((r) => imageString(r.dynamodb?.NewImage, 'qpk') === keys.queue.inbox && r.dynamodb?.Keys?.pk?.S);
  const pks = [...new Set(inbox.map((r) => r.dynamodb!.Keys!.pk!.S!))];
  const failed = await runBounded(
    pks,
    CONCURRENCY,
    async (pk) => {
      const outcome = await processDelivery({ db, connectors, clock, log }, pk);
      countOutcome(runtime.metrics, pk, outcome);
      return outcome !== 'retry';
    },
    log,
    (pk) => ({ deliveryPk: pk }),
  );
  return batchResponse(inbox.filter((r) => failed.has(r.dynamodb!.Keys!.pk!.S!)));
};

let cached: ReturnType<typeof createProcessorHandler> | undefined;

export const handler = async (event: DynamoDBStreamEvent) => {
  cached ??= createProcessorHandler(await lambdaRuntime());
  return cached(event);
};
