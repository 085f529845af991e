import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

export type QueueName = keyof typeof keys.queue;

/** A record waiting on the sparse `queue` index: a pending delivery (inbox) or an item with unpublished events (outbox). */
export interface QueuedRecord {
  pk: string;
  /** `ITEM`, `DLV`, or `ALERT#…` for an alert record in its subject's partition */
  sk: string;
  tenantId: string;
  /** when the record joined the queue (ISO), read from its queue sort key */
  since: string;
  /** an outbox marker's: the cursors of the events it stands for (store/event-log.ts) */
  cursors?: string[];
}

/**
 * Records waiting on one queue since before `before` (ISO time), oldest first. The scheduled sweep
 * uses it to find what the stream-triggered functions missed, leaving young records to them.
 * Discovery only: GSIs are eventually consistent, so callers re-read each record before acting.
 */
export const listQueued = async (
  db: Db,
  queue: QueueName,
  options: { before?: string; limit?: number } = {},
): Promise<QueuedRecord[]> => {
  const limit = options.limit ?? 100;
  const out: QueuedRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: 'queue',
        KeyConditionExpression: options.before ? 'qpk = :q AND qsk < :before' : 'qpk = :q',
        ExpressionAttributeValues: { ':q': keys.queue[queue], ...(options.before ? { ':before': options.before } : {}) },
        ProjectionExpression: 'pk, sk, tenantId, qsk, cursors',
        Limit: limit - out.length,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const row of page.Items ?? []) {
      out.push({
        pk: String(row.pk),
        sk: String(row.sk),
        tenantId: String(row.tenantId),
        since: String(row.qsk).split('#', 1)[0]!,
        ...(Array.isArray(row.cursors) ? { cursors: row.cursors.map(String) } : {}),
      });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey && out.length < limit);
  return out;
};

/** The item id in an item record's partition key (`T#{tenant}#ITEM#{id}`). */
export const itemIdOfKey = (pk: string): string | undefined => pk.split('#ITEM#')[1];

/**
 * Takes a record off its queue if nobody wrote it since `version` (of `versionAttribute`). When the
 * condition fails, the newer write set the queue keys it needs, so there is nothing to undo.
 */
export const leaveQueue = async (db: Db, key: { pk: string; sk: string }, versionAttribute: string, version: number): Promise<void> => {
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: key,
        UpdateExpression: 'REMOVE qpk, qsk',
        ConditionExpression: '#v = :v',
        ExpressionAttributeNames: { '#v': versionAttribute },
        ExpressionAttributeValues: { ':v': version },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
};
