import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { drainItemOutbox } from '../../bus/drain-outbox.ts';
import { keys } from '../../store/keys.ts';
import { itemIdOfKey } from '../../store/queue.ts';
import { withMetrics } from './metrics.ts';
import { type LambdaRuntime, lambdaRuntime } from './runtime.ts';
import { batchResponse, imageString, runBounded } from './stream.ts';

const CONCURRENCY = 8;

/**
 * The publisher: invoked by the table's stream for item records on the outbox queue (see
 * store/stream-filters.ts), it drains each record's pending events to EventBridge with the same
 * `drainItemOutbox` as the local mode. Several records of one item in a batch drain it once.
 * An item with events still pending is reported as a batch item failure.
 */
export const createPublisherHandler = (runtime: LambdaRuntime) => (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> =>
  withMetrics(runtime, () => publishBatch(runtime, event));

const publishBatch = async (runtime: LambdaRuntime, event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const { db, log } = runtime;
  const publisher = runtime.publisher();
  const outbox = event.Records.filter((r) => imageString(r.dynamodb?.NewImage, 'qpk') === keys.queue.outbox);
  const items = new Map<string, { tenantId: string; itemId: string; sk: string }>();
  const keyOf = new Map<(typeof outbox)[number], string>();
  for (const record of outbox) {
    const tenantId = imageString(record.dynamodb?.NewImage, 'tenantId');
    const itemId = itemIdOfKey(record.dynamodb?.Keys?.pk?.S ?? '');
    if (!tenantId || !itemId) continue;
    // Alert records share their subject's partition: the sort key tells which record to drain.
    const sk = record.dynamodb?.Keys?.sk?.S ?? 'ITEM';
    const key = JSON.stringify([tenantId, itemId, sk]);
    items.set(key, { tenantId, itemId, sk });
    keyOf.set(record, key);
  }
  const failed = await runBounded(
    [...items.keys()],
    CONCURRENCY,
    (key) => drainItemOutbox(db, publisher, items.get(key)!.tenantId, items.get(key)!.itemId, items.get(key)!.sk),
    log,
    (key) => items.get(key)!,
  );
  return batchResponse(outbox.filter((r) => failed.has(keyOf.get(r) ?? '')));
};

let cached: ReturnType<typeof createPublisherHandler> | undefined;

export const handler = async (event: DynamoDBStreamEvent) => {
  cached ??= createPublisherHandler(await lambdaRuntime());
  return cached(event);
};
