import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { Logger } from '../../core/ports.ts';

/** A string attribute of a stream image (`{ S: "…" }`), or undefined. */
export const imageString = (image: Record<string, AttributeValue> | undefined, name: string): string | undefined => image?.[name]?.S;

/** A list of strings in a stream image (`{ L: [{ S: "…" }, …] }`), or undefined. */
export const imageStrings = (image: Record<string, AttributeValue> | undefined, name: string): string[] | undefined =>
  image?.[name]?.L?.flatMap((value) => (value.S === undefined ? [] : [value.S]));

/**
 * Runs `work` for each key, at most `concurrency` at once, and collects the keys whose work
 * failed or answered false. Errors are logged, never thrown: one bad record must not fail the batch.
 */
export const runBounded = async <K>(
  keys: readonly K[],
  concurrency: number,
  work: (key: K) => Promise<boolean>,
  log: Logger,
  describe: (key: K) => Record<string, unknown>,
): Promise<Set<K>> => {
  const failed = new Set<K>();
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      try {
        if (!(await work(key))) failed.add(key);
      } catch (error) {
        log.warn('stream record failed, Lambda will retry it', { ...describe(key), error: String(error) });
        failed.add(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  return failed;
};

/**
 * A partial batch response (`ReportBatchItemFailures`): Lambda retries the stream from the first
 * failed record, so later records of the batch run again too, harmlessly (every step is idempotent).
 */
export const batchResponse = (failedRecords: readonly DynamoDBRecord[]): DynamoDBBatchResponse => ({
  batchItemFailures: failedRecords.flatMap((r) => (r.dynamodb?.SequenceNumber ? [{ itemIdentifier: r.dynamodb.SequenceNumber }] : [])),
});
