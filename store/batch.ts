import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { forEachBounded } from '../core/limit-concurrency.ts';
import type { Db } from './db.ts';

export type WriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

/**
 * Requests of one batched read, or of a write in any order, sent at once: the engine works on one
 * while the hub serializes the next and parses the last (sent one after another, a batch's derived
 * rows kept both waiting on each other for a third of its time).
 */
const REQUESTS_IN_FLIGHT = 4;

/**
 * BatchWriteItem in groups of 25 (its limit), retrying what the engine leaves unprocessed with
 * exponential backoff, as DynamoDB asks callers to do when it throttles. Of several writes to one
 * key, only the last is sent. In order by default: a group is sent once the one before it is
 * written, so a crash leaves a prefix written (store/event-log.ts `logWrites` relies on it).
 * `inAnyOrder` sends a few groups at once, for writes whose order does not matter.
 */
export const batchWrite = async (db: Db, all: readonly WriteRequest[], options: { inAnyOrder?: boolean } = {}): Promise<void> => {
  const requests = lastWritePerKey(all);
  await forEachBounded(groupsOf(requests, 25), options.inAnyOrder ? REQUESTS_IN_FLIGHT : 1, async (group) => {
    let batch: WriteRequest[] | undefined = group;
    for (let attempt = 0; batch && batch.length > 0; attempt++) {
      const result = await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.table]: batch } }));
      batch = result.UnprocessedItems?.[db.table] as WriteRequest[] | undefined;
      if (batch?.length) await backOff(attempt);
    }
  });
};

/** `values` in consecutive groups of at most `size`. */
const groupsOf = <T>(values: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(values.length / size) }, (_, i) => values.slice(i * size, (i + 1) * size));

const backOff = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));

const keyOfWrite = (write: WriteRequest): string => {
  const key = 'PutRequest' in write ? write.PutRequest.Item : write.DeleteRequest.Key;
  return `${String(key.pk)}\u0000${String(key.sk)}`;
};

/** BatchWriteItem refuses two writes to one key in a request: of several, the last one stands, as if written in order. */
const lastWritePerKey = (requests: readonly WriteRequest[]): WriteRequest[] => {
  const last = new Map<string, number>();
  requests.forEach((write, index) => last.set(keyOfWrite(write), index));
  return requests.filter((write, index) => last.get(keyOfWrite(write)) === index);
};

/** Splits a value too large for one item (400 KB cap) into parts of at most `size` bytes. */
export const splitIntoParts = (bytes: Buffer, size: number): Buffer[] => {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) parts.push(bytes.subarray(offset, offset + size));
  return parts;
};

/**
 * Keys per BatchGetItem for rows of a kilobyte or more (item and delivery records): the SDK parses a
 * response in one piece, and 100 such rows held the local hub's event loop for tens of milliseconds.
 */
export const LARGE_ROWS_PER_REQUEST = 50;

/**
 * BatchGetItem in groups of up to 100 (its limit), a few at once, retrying unprocessed keys with
 * backoff; rows come in no particular order, as DynamoDB answers. Duplicate keys are read once
 * (DynamoDB rejects a batch that repeats a key). `attributes` reads only those (e.g. `['pk']` to
 * learn which rows exist).
 */
export const batchGet = async (
  db: Db,
  keys: readonly { pk: string; sk: string }[],
  options: {
    consistent?: boolean;
    attributes?: readonly string[];
    /** keys asked for in one request (at most DynamoDB's 100; see {@link LARGE_ROWS_PER_REQUEST}) */
    keysPerRequest?: number;
  } = {},
): Promise<Record<string, unknown>[]> => {
  const perRequest = Math.min(100, options.keysPerRequest ?? 100);
  const unique = [...new Map(keys.map((k) => [`${k.pk}\u0000${k.sk}`, k])).values()];
  const projection = options.attributes?.length
    ? {
        ProjectionExpression: options.attributes.map((_, i) => `#a${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(options.attributes.map((name, i) => [`#a${i}`, name])),
      }
    : {};
  const rows: Record<string, unknown>[] = [];
  await forEachBounded(groupsOf(unique, perRequest), REQUESTS_IN_FLIGHT, async (group) => {
    let batch = group;
    for (let attempt = 0; batch.length > 0; attempt++) {
      const result = await db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: batch, ConsistentRead: options.consistent, ...projection } } }));
      rows.push(...(result.Responses?.[db.table] ?? []));
      batch = (result.UnprocessedKeys?.[db.table]?.Keys ?? []) as typeof batch;
      if (batch.length) await backOff(attempt);
    }
  });
  return rows;
};
