import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { drainItemOutbox } from '../../bus/drain-outbox.ts';
import { publishMarkers } from '../../bus/publish-outbox.ts';
import { isOutboxMarker, markerOf } from '../../store/event-log.ts';
import { keys } from '../../store/keys.ts';
import { itemIdOfKey } from '../../store/queue.ts';
import { withMetrics } from './metrics.ts';
import { type LambdaRuntime, lambdaRuntime } from './runtime.ts';
import { batchResponse, imageString, imageStrings, runBounded } from './stream.ts';

const CONCURRENCY = 8;

/**
 * The publisher: invoked by the table's stream for rows joining the outbox queue (see
 * store/stream-filters.ts). The markers of logged events (store/event-log.ts) are published
 * together, as the local mode's publisher does; a record holding its own events (an alert, or an
 * item written before the event log) is drained with `drainItemOutbox`. What stays unpublished is
 * reported as a batch item failure, so Lambda invokes again from it.
 */
export const createPublisherHandler = (runtime: LambdaRuntime) => (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> =>
  withMetrics(runtime, () => publishBatch(runtime, event));

const keyOfRecord = (record: DynamoDBRecord) => {
  const tenantId = imageString(record.dynamodb?.NewImage, 'tenantId');
  const pk = record.dynamodb?.Keys?.pk?.S;
  const sk = record.dynamodb?.Keys?.sk?.S ?? 'ITEM';
  return tenantId && pk ? { tenantId, pk, sk } : undefined;
};

const publishBatch = async (runtime: LambdaRuntime, event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const { db, log } = runtime;
  const publisher = runtime.publisher();
  const outbox = event.Records.filter((r) => imageString(r.dynamodb?.NewImage, 'qpk') === keys.queue.outbox);
  const failed = new Set<DynamoDBRecord>();

  const markerRecords = outbox.filter((r) => keyOfRecord(r) && isOutboxMarker(keyOfRecord(r)!));
  if (markerRecords.length > 0) {
    const markers = new Map(markerRecords.map((r) => [r, markerOf({ ...keyOfRecord(r)!, cursors: imageStrings(r.dynamodb?.NewImage, 'cursors') })]));
    try {
      const { unpublished } = await publishMarkers(db, publisher, [...markers.values()]);
      const left = new Set(unpublished);
      for (const [record, marker] of markers) if (left.has(marker)) failed.add(record);
    } catch (error) {
      log.warn('publishing logged events failed, Lambda will retry them', { error: String(error) });
      for (const record of markerRecords) failed.add(record);
    }
  }

  // Several stream records of one record drain it once.
  const held = new Map<string, { tenantId: string; itemId: string; sk: string; records: DynamoDBRecord[] }>();
  for (const record of outbox) {
    const key = keyOfRecord(record);
    const itemId = key && !isOutboxMarker(key) ? itemIdOfKey(key.pk) : undefined;
    if (!key || !itemId) continue;
    const id = JSON.stringify([key.tenantId, itemId, key.sk]);
    const entry = held.get(id) ?? { tenantId: key.tenantId, itemId, sk: key.sk, records: [] };
    entry.records.push(record);
    held.set(id, entry);
  }
  const drainFailed = await runBounded(
    [...held.keys()],
    CONCURRENCY,
    (id) => drainItemOutbox(db, publisher, held.get(id)!.tenantId, held.get(id)!.itemId, held.get(id)!.sk),
    log,
    (id) => ({ tenantId: held.get(id)!.tenantId, itemId: held.get(id)!.itemId }),
  );
  for (const id of drainFailed) for (const record of held.get(id)!.records) failed.add(record);
  return batchResponse(outbox.filter((r) => failed.has(r)));
};

let cached: ReturnType<typeof createPublisherHandler> | undefined;

export const handler = async (event: DynamoDBStreamEvent) => {
  cached ??= createPublisherHandler(await lambdaRuntime());
  return cached(event);
};
