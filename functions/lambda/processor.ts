import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { countOutcome } from '../../pipeline/hub-metrics.ts';
import { processBatch } from '../../processing/batch.ts';
import { keys } from '../../store/keys.ts';
import { withMetrics } from './metrics.ts';
import { type LambdaRuntime, lambdaRuntime } from './runtime.ts';
import { batchResponse, imageString } from './stream.ts';

/**
 * The processor: invoked by the table's stream for delivery records on the inbox queue (see
 * store/stream-filters.ts), it processes the stream batch as one batch, with the same
 * `processBatch` as the local mode. A delivery to retry (the store failed) is reported as a batch
 * item failure, so Lambda invokes again from it, a bounded number of times (infra/jobs.ts); the
 * scheduled sweep picks up whatever remains. A batch that throws as a whole reports every record.
 */
export const createProcessorHandler = (runtime: LambdaRuntime) => (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> =>
  withMetrics(runtime, () => processStreamBatch(runtime, event));

const processStreamBatch = async (runtime: LambdaRuntime, event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const { db, connectors, clock, log, metrics } = runtime;
  const inbox = event.Records.filter((r) => imageString(r.dynamodb?.NewImage, 'qpk') === keys.queue.inbox && r.dynamodb?.Keys?.pk?.S);
  const pkOf = (record: (typeof inbox)[number]) => record.dynamodb!.Keys!.pk!.S!;
  const pks = [...new Set(inbox.map(pkOf))];
  if (pks.length === 0) return batchResponse([]);
  let retry: Set<string>;
  try {
    const outcomes = await processBatch({ db, connectors, clock, log, metrics }, pks);
    for (const [pk, outcome] of outcomes) countOutcome(metrics, pk, outcome);
    retry = new Set([...outcomes].filter(([, outcome]) => outcome === 'retry').map(([pk]) => pk));
  } catch (error) {
    log.warn('stream batch failed, Lambda will retry it', { size: pks.length, error: String(error) });
    retry = new Set(pks);
  }
  return batchResponse(inbox.filter((r) => retry.has(pkOf(r))));
};

let cached: ReturnType<typeof createProcessorHandler> | undefined;

export const handler = async (event: DynamoDBStreamEvent) => {
  cached ??= createProcessorHandler(await lambdaRuntime());
  return cached(event);
};
