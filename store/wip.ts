import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type WipSubject, wipSubjectsOf } from '../core/wip.ts';
import type { WorkItem } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { readPartition } from './partition.ts';

/**
 * Work in progress per person and per team, without counters to repair: one membership row per
 * (subject, item) in the tenant's WIP partition (`T#{t}#WIP / {subject}#{itemId}`), holding the
 * item version that put it there. A subject's WIP is one strongly consistent Query of its rows,
 * so it costs what the subject has in progress, never what the index holds.
 *
 * Rows are written after the item, conditionally on their version, so a late, older writer can
 * neither remove a row a newer version put nor overwrite it. It can re-create a row a newer version
 * removed, and a crash can leave a row behind: readers therefore re-check every row against its
 * item (see pipeline/wip-alerts.ts), count only the confirmed ones and delete the rest.
 */
export interface WipRow {
  subjectKey: string;
  itemId: string;
  /** the item version that wrote the row */
  v: number;
  /** the subject's name when the row was written (the person's name, the team's) */
  name: string;
}

const toRow = (row: Record<string, unknown>): WipRow => ({
  subjectKey: String(row.subject),
  itemId: String(row.itemId),
  v: Number(row.v),
  name: String(row.name ?? row.subject),
});

const ignoreLostRace = (error: unknown) => {
  if (!(error instanceof ConditionalCheckFailedException)) throw error;
};

/**
 * Moves an item's membership rows from what it counted against before (`before`) to what it
 * counts against now. Returns the subjects whose work in progress may have changed: those added
 * or removed. Without `before` (a new item, or a re-run after a crash) every current subject is
 * written again and returned; a row a crash left for a former subject is dropped by its next count.
 */
export const syncWipMembership = async (db: Db, tenantId: string, item: WorkItem, before: WorkItem | undefined): Promise<WipSubject[]> => {
  const now = wipSubjectsOf(item);
  const was = wipSubjectsOf(before);
  const nowKeys = new Set(now.map((s) => s.key));
  const wasKeys = new Set(was.map((s) => s.key));
  const added = now.filter((s) => !wasKeys.has(s.key));
  const removed = was.filter((s) => !nowKeys.has(s.key));
  for (const subject of added) {
    await db.doc
      .send(
        new PutCommand({
          TableName: db.table,
          Item: { ...keys.wipMember(tenantId, subject.key, item.id), tenantId, subject: subject.key, itemId: item.id, v: item.version, name: subject.name },
          ConditionExpression: 'attribute_not_exists(pk) OR v < :v',
          ExpressionAttributeValues: { ':v': item.version },
        }),
      )
      .catch(ignoreLostRace);
  }
  for (const subject of removed) await removeWipRow(db, tenantId, subject.key, item.id, { olderThan: item.version });
  return [...added, ...removed];
};

/** Deletes a membership row written by a version older than `olderThan`, or exactly `version`. */
export const removeWipRow = async (db: Db, tenantId: string, subjectKey: string, itemId: string, version: { olderThan: number } | { exactly: number }) => {
  const [condition, value] = 'olderThan' in version ? ['v < :v', version.olderThan] : ['v = :v', version.exactly];
  await db.doc
    .send(
      new DeleteCommand({
        TableName: db.table,
        Key: keys.wipMember(tenantId, subjectKey, itemId),
        ConditionExpression: condition,
        ExpressionAttributeValues: { ':v': value },
      }),
    )
    .catch(ignoreLostRace);
};

const queryRows = async (db: Db, tenantId: string, prefix?: string): Promise<WipRow[]> =>
  (await readPartition(db, keys.wipOf(tenantId), prefix)).map(toRow);

/** The membership rows of one subject (strongly consistent). */
export const readWipRows = (db: Db, tenantId: string, subjectKey: string): Promise<WipRow[]> =>
  queryRows(db, tenantId, keys.wipMember(tenantId, subjectKey, '').sk);

/** Every membership row of a tenant: the sweep's view of all people and teams with work in progress. */
export const readAllWipRows = (db: Db, tenantId: string): Promise<WipRow[]> => queryRows(db, tenantId);

/**
 * A fresh evaluation ticket for a subject: taken before its rows are read, so a higher ticket
 * always comes with a read at least as recent (store/ordered-alerts.ts).
 */
export const takeWipTicket = async (db: Db, tenantId: string, subjectKey: string): Promise<number> => {
  const { Attributes } = await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.wipTicket(tenantId, subjectKey),
      UpdateExpression: 'SET tenantId = :t ADD seq :one',
      ExpressionAttributeValues: { ':t': tenantId, ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(Attributes?.seq);
};
