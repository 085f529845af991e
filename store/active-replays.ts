import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * Which replay runs for a scope (connection, since, until as asked), so asking for the same replay
 * twice returns the running one instead of running every delivery twice. The row is never released:
 * a holder that is no longer running is replaced by the next replay of the scope.
 */

/** The running replay's id of a scope, if one was ever started (callers check that it still runs). */
export const getActiveReplay = async (db: Db, tenantId: string, scope: string): Promise<string | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.activeReplay(tenantId, scope), ConsistentRead: true }));
  return Item ? String(Item.jobId) : undefined;
};

/** Claims the scope for `jobId`: succeeds when no job holds it, or when the holder is still `replacing`. */
export const claimActiveReplay = async (db: Db, tenantId: string, scope: string, jobId: string, replacing?: string): Promise<boolean> => {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...keys.activeReplay(tenantId, scope), tenantId, jobId },
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
