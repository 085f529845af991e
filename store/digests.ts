import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from '../core/events.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * Weekly digest records (`T#{t}#DIGEST / {isoWeek}#{team}`): the digest's event as first assembled,
 * who claimed publishing it and when, and when it was published. The first sweep to claim a digest
 * (a conditional put) publishes it; an overlapping sweep finds the claim and leaves it alone; a
 * claim older than the lease (its sweep crashed, or the bus failed) is taken over, and the stored
 * event — same id, same content — is published again. A marker per week (`DIGESTS / {isoWeek}`)
 * says every tenant's digests are out, so later sweeps of the week read one row.
 */
export interface DigestRecord {
  event: EventEnvelope;
  claimedAt: string;
  publishedAt?: string;
}

export const getDigestRecord = async (db: Db, tenantId: string, week: string, team: string | undefined): Promise<DigestRecord | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.digest(tenantId, week, team), ConsistentRead: true }));
  return Item
    ? { event: JSON.parse(String(Item.event)) as EventEnvelope, claimedAt: String(Item.claimedAt), ...(Item.publishedAt ? { publishedAt: String(Item.publishedAt) } : {}) }
    : undefined;
};

const conditional = async (write: () => Promise<unknown>): Promise<boolean> => {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

/** Stores a new digest and claims publishing it; false when another sweep stored it first. */
export const claimNewDigest = (db: Db, tenantId: string, week: string, team: string | undefined, event: EventEnvelope, now: Date) =>
  conditional(() =>
    db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...keys.digest(tenantId, week, team), tenantId, week, ...(team === undefined ? {} : { team }), event: JSON.stringify(event), claimedAt: now.toISOString() },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  );

/** Takes over an unpublished digest whose claim is still the one read; false when someone else did. */
export const reclaimDigest = (db: Db, tenantId: string, week: string, team: string | undefined, claimedAt: string, now: Date) =>
  conditional(() =>
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.digest(tenantId, week, team),
        UpdateExpression: 'SET claimedAt = :now',
        ConditionExpression: 'claimedAt = :claimed AND attribute_not_exists(publishedAt)',
        ExpressionAttributeValues: { ':now': now.toISOString(), ':claimed': claimedAt },
      }),
    ),
  );

export const markDigestPublished = async (db: Db, tenantId: string, week: string, team: string | undefined, now: Date): Promise<void> => {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.digest(tenantId, week, team),
      UpdateExpression: 'SET publishedAt = if_not_exists(publishedAt, :now)',
      ExpressionAttributeValues: { ':now': now.toISOString() },
    }),
  );
};

export const isDigestWeekDone = async (db: Db, week: string): Promise<boolean> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.digestsDone(week), ConsistentRead: true }));
  return Item !== undefined;
};

export const markDigestWeekDone = async (db: Db, week: string, tenants: number, now: Date): Promise<void> => {
  await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...keys.digestsDone(week), tenants, doneAt: now.toISOString() } }));
};
