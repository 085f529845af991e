import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';

/**
 * A holder row names the one job that runs for something: a connection's backfill
 * (`keys.activeBackfill`), a replay scope (`keys.activeReplay`). Asking twice then returns the
 * running job instead of starting a second one. A holder that no longer runs (finished, or crashed
 * before its release) is replaced by the next claim that names it.
 */
type Key = { pk: string; sk: string };

/** The id of the job the row names, if any (callers check that it still runs). */
export const getJobHolder = async (db: Db, key: Key): Promise<string | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
  return Item ? String(Item.jobId) : undefined;
};

/** Names `jobId` on the row: succeeds when no job holds it, or when the holder is still `replacing`. */
export const claimJobHolder = async (db: Db, key: Key, jobId: string, replacing?: string, attributes: Record<string, unknown> = {}): Promise<boolean> => {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...key, ...attributes, jobId },
        ConditionExpression: replacing ? 'jobId = :old' : 'attribute_not_exists(pk)',
        ...(replacing ? { ExpressionAttributeValues: { ':old': replacing } } : {}),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

/** Clears the row if `jobId` still holds it. */
export const releaseJobHolder = async (db: Db, key: Key, jobId: string): Promise<void> => {
  try {
    await db.doc.send(new DeleteCommand({ TableName: db.table, Key: key, ConditionExpression: 'jobId = :id', ExpressionAttributeValues: { ':id': jobId } }));
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
};
