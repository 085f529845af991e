import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, Logger } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { keys } from '../store/keys.ts';
import { scanPage } from '../store/scan-page.ts';

/*
 * The table's TTL attribute is `expiresAt` (store/table.ts): in AWS, DynamoDB deletes expired rows
 * itself. The embedded engine has no TTL, so the local mode runs this sweep instead. Like DynamoDB's
 * own TTL process it walks the whole table a page at a time, deleting rows whose `expiresAt` has
 * passed; where it stopped is saved in the table, so each pass does a bounded amount of work and the
 * next one (or the next process) carries on from there.
 */

export interface RetentionDeps {
  db: Db;
  clock: Clock;
  log: Logger;
}

export interface RetentionOptions {
  /** rows read per pass (the bound on its work); a pass ends earlier when it completes the table */
  maxRows?: number;
  /** rows read per Scan request */
  pageSize?: number;
}

export interface RetentionReport {
  scanned: number;
  deleted: number;
  /** the pass reached the end of the table; the next one starts over */
  completed: boolean;
}

const MAX_ROWS = 10_000;
const PAGE_SIZE = 500;

const loadCursor = async (db: Db): Promise<Record<string, unknown> | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.retentionSweep(), ConsistentRead: true }));
  return Item?.cursor ? (JSON.parse(String(Item.cursor)) as Record<string, unknown>) : undefined;
};

const saveCursor = async (db: Db, cursor: Record<string, unknown> | undefined, at: string): Promise<void> => {
  await db.doc.send(
    new PutCommand({ TableName: db.table, Item: { ...keys.retentionSweep(), ...(cursor ? { cursor: JSON.stringify(cursor) } : {}), at } }),
  );
};

/**
 * Deletes one expired row, conditional on it still being expired and on no queue waiting on it: a
 * delivery retried meanwhile has no expiry any more, and a record holding unpublished events keeps
 * them until the publisher has taken them.
 */
const deleteExpired = async (db: Db, key: { pk: string; sk: string }, nowSeconds: number): Promise<boolean> => {
  try {
    await db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: key,
        ConditionExpression: 'expiresAt <= :now AND attribute_not_exists(qpk)',
        ExpressionAttributeValues: { ':now': nowSeconds },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

/** One bounded pass of the retention sweep, from where the last one stopped. */
export const sweepRetention = async (deps: RetentionDeps, options: RetentionOptions = {}): Promise<RetentionReport> => {
  const { db } = deps;
  const maxRows = options.maxRows ?? MAX_ROWS;
  const nowSeconds = Math.floor(deps.clock().getTime() / 1000);
  const report: RetentionReport = { scanned: 0, deleted: 0, completed: false };
  let cursor = await loadCursor(db);
  while (report.scanned < maxRows) {
    // The limit bounds the rows read, before the filter: the pass's work, whatever share has expired.
    const page = await scanPage(
      db,
      { expression: 'expiresAt <= :now', projection: 'pk, sk, bodyParts, bodySha256', values: { ':now': nowSeconds } },
      cursor,
      Math.min(options.pageSize ?? PAGE_SIZE, maxRows - report.scanned),
    );
    report.scanned += page.scanned;
    for (const row of page.rows) {
      const key = { pk: String(row.pk), sk: String(row.sk) };
      if (!(await deleteExpired(db, key, nowSeconds))) continue;
      report.deleted++;
      // The body parts of a deleted delivery serve nothing any more, whatever their own expiry says.
      if (key.sk === 'DLV' && row.bodyParts) {
        for (let n = 0; n < Number(row.bodyParts); n++) {
          await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.deliveryPart(key.pk, String(row.bodySha256), n) }));
          report.deleted++;
        }
      }
    }
    cursor = page.next;
    if (!cursor) {
      report.completed = true;
      break;
    }
  }
  await saveCursor(db, cursor, deps.clock().toISOString());
  if (report.deleted > 0) deps.log.info('retention sweep deleted expired rows', { ...report });
  return report;
};
