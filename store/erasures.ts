import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { identifierHash } from '../core/erasure.ts';
import { batchGet, batchWrite } from './batch.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * The tombstone of a tenant's erased people (`T#{t}#ERASED`): one row per identifier hash naming its
 * pseudonym, so a delivery that names an erased person after the erasure is pseudonymized too, and
 * one row per erased person id naming the erasure job (a repeated DELETE answers with that job).
 * No identifier is stored in clear.
 */
export interface ErasureMarker {
  jobId: string;
  pseudonym: string;
}

/** Writes the identifier hashes of an erased person (idempotent). */
export const putTombstone = async (db: Db, tenantId: string, hashes: readonly string[], pseudonym: string): Promise<void> =>
  batchWrite(db, [...new Set(hashes)].map((hash) => ({ PutRequest: { Item: { ...keys.erasedIdentifier(tenantId, hash), tenantId, pseudonym } } })));

/**
 * The pseudonyms of the given hashes, read strongly consistently: the processor asks once per
 * delivery, so an erasure applies to the very next delivery in every process, with no cache to expire.
 */
export const lookupTombstone = async (db: Db, tenantId: string, hashes: readonly string[]): Promise<Map<string, string>> => {
  if (hashes.length === 0) return new Map();
  const rows = await batchGet(db, hashes.map((hash) => keys.erasedIdentifier(tenantId, hash)), { consistent: true });
  return new Map(rows.map((row) => [String(row.sk).slice(2), String(row.pseudonym)]));
};

export const personHash = (tenantId: string, personId: string): string => identifierHash(tenantId, personId);

export const getErasureMarker = async (db: Db, tenantId: string, personId: string): Promise<ErasureMarker | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.erasureOf(tenantId, personHash(tenantId, personId)), ConsistentRead: true }));
  return Item ? { jobId: String(Item.jobId), pseudonym: String(Item.pseudonym) } : undefined;
};

/** Claims the erasure of a person id for a job; returns the existing marker when another one holds it. */
export const claimErasure = async (db: Db, tenantId: string, personId: string, marker: ErasureMarker): Promise<ErasureMarker | undefined> => {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...keys.erasureOf(tenantId, personHash(tenantId, personId)), tenantId, ...marker },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return undefined;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return getErasureMarker(db, tenantId, personId);
  }
};

/** Marks other person ids of the same identity (merged ones), so each of them finds the job too. */
export const markErased = async (db: Db, tenantId: string, personIds: readonly string[], marker: ErasureMarker): Promise<void> =>
  batchWrite(db, personIds.map((id) => ({ PutRequest: { Item: { ...keys.erasureOf(tenantId, personHash(tenantId, id)), tenantId, ...marker } } })));
