import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { batchWrite } from './batch.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { type IndexName, TABLE_SCHEMA, projectionOf } from './table.ts';

/*
 * Moving the index into a table with today's indexes. DynamoDB cannot change what an index projects
 * in place (and dynalite cannot add an index at all), so a table created with wider projections keeps
 * them: every query still gets what it reads, but every write copies more into the index than it
 * needs. The copy takes every row as it is (deliveries, items, tenants, tokens, connections, manual
 * links, identities: nothing is re-derived) into a new table, page by page. Its position is kept in
 * the target, so a copy stopped by a crash or Ctrl-C continues where it was, and a finished copy is
 * never run again over a table a hub may since have written to.
 */

export interface CopyProgress {
  /** rows copied by this run */
  copied: number;
  /** true once every row of the source is in the target */
  done: boolean;
}

/** The indexes of a table that project something else than store/table.ts declares (wider, in a table created before). */
export const outdatedIndexes = async (db: Db): Promise<IndexName[]> => {
  const { Table } = await db.doc.send(new DescribeTableCommand({ TableName: db.table }));
  const sorted = (names: readonly string[] | undefined) => [...(names ?? [])].sort().join(',');
  return (Object.keys(TABLE_SCHEMA.indexes) as IndexName[]).filter((name) => {
    const found = Table?.GlobalSecondaryIndexes?.find((index) => index.IndexName === name)?.Projection;
    const wanted = projectionOf(name);
    return found?.ProjectionType !== wanted.type || sorted(found.NonKeyAttributes) !== sorted(wanted.nonKeyAttributes);
  });
};

export class CopyTargetError extends Error {
  constructor(target: string, reason: string) {
    super(`Cannot copy into ${target}: ${reason}. Name a new table with --to.`);
    this.name = 'CopyTargetError';
  }
}

/**
 * Copies every row of `source` into `target` (a table with today's indexes, e.g. made by
 * `ensureTable`), from where an earlier run stopped. Run it while no hub writes to either table.
 * A finished copy resolves at once; a target that holds rows of its own (not from a copy of
 * `source`) is refused.
 */
export const copyTable = async (
  source: Db,
  target: Db,
  options: { pageSize?: number; onProgress?: (progress: CopyProgress) => void } = {},
): Promise<CopyProgress> => {
  const progress: CopyProgress = { copied: 0, done: false };
  const { Item: state } = await target.doc.send(new GetCommand({ TableName: target.table, Key: keys.tableCopy(), ConsistentRead: true }));
  if (state && state.from !== source.table) throw new CopyTargetError(target.table, `it holds a copy of ${String(state.from)}`);
  if (state?.done) return { ...progress, done: true };
  if (!state) await refuseRowsOfItsOwn(target);
  let startKey = state?.cursor as Record<string, unknown> | undefined;
  do {
    const page = await source.doc.send(
      new ScanCommand({ TableName: source.table, ConsistentRead: true, Limit: options.pageSize ?? 1000, ExclusiveStartKey: startKey }),
    );
    // A table that was itself the target of a copy holds that copy's position: not data.
    const rows = (page.Items ?? []).filter((row) => row.pk !== keys.tableCopy().pk);
    await batchWrite(target, rows.map((Item) => ({ PutRequest: { Item } })));
    progress.copied += rows.length;
    startKey = page.LastEvaluatedKey;
    // Rows first, then the position: a crash in between copies the page again, the same rows.
    await target.doc.send(
      new PutCommand({ TableName: target.table, Item: { ...keys.tableCopy(), from: source.table, ...(startKey ? { cursor: startKey } : { done: true }) } }),
    );
    options.onProgress?.(progress);
  } while (startKey);
  return { ...progress, done: true };
};

/** A new table holds at most its schema row (ensureTable writes it, and the source's replaces it). */
const refuseRowsOfItsOwn = async (target: Db): Promise<void> => {
  const { Items } = await target.doc.send(new ScanCommand({ TableName: target.table, ProjectionExpression: 'pk', Limit: 2 }));
  if ((Items ?? []).some((row) => row.pk !== keys.schema().pk)) throw new CopyTargetError(target.table, 'it already holds rows');
};
