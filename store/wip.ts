import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type WipMember, type WipSubject, wipMemberOf, wipSubjectsOf } from '../core/wip.ts';
import type { WorkItem } from '../core/work-item.ts';
import { expiryAfter } from '../core/retention.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { type WriteRequest, batchGet } from './batch.ts';
import { readPartition } from './partition.ts';

/**
 * Work in progress per person and per team, without counters to repair: one membership row per
 * (subject, item) in the tenant's WIP partition (`T#{t}#WIP / {subject}#{itemId}`), holding the
 * item version that wrote it and what an alert names (the item's ref and title). A subject's WIP is
 * one strongly consistent Query of these small rows: it costs what the subject has in progress,
 * never what the index holds, and reads no item.
 *
 * Rows only move forward in item versions: they are written after the item, on the condition that
 * the row is older, and an item that leaves a subject leaves a tombstone (`gone`, expiring
 * after a day) rather than no row. A late, older writer therefore can neither remove, overwrite nor
 * re-create what a newer version decided. Only a crash between the item write and its rows leaves
 * a row wrong: the delivery's re-run writes the rows it missed, and the alert sweep, which checks
 * every row against its item (pipeline/wip-alerts.ts), retires those left for a former subject.
 */
export interface WipRow {
  subjectKey: string;
  itemId: string;
  /** the item version that wrote the row */
  v: number;
  /** the subject's name when the row was written (the person's name, the team's) */
  name: string;
  /** the item as the alert names it; absent on rows written before the hub kept it */
  member?: WipMember;
}

/** How long a tombstone stays: far longer than any two writers of one item overlap. */
const TOMBSTONE_DAYS = 1;

const tombstone = (now: Date) => ({ gone: true, expiresAt: expiryAfter(now.toISOString(), TOMBSTONE_DAYS) });

const toRow = (row: Record<string, unknown>): WipRow => ({
  subjectKey: String(row.subject),
  itemId: String(row.itemId),
  v: Number(row.v),
  name: String(row.name ?? row.subject),
  ...(row.member ? { member: row.member as WipMember } : {}),
});

const ignoreLostRace = (error: unknown) => {
  if (!(error instanceof ConditionalCheckFailedException)) throw error;
};

/** The key and identity of a subject's row for an item. */
const rowKey = (tenantId: string, subjectKey: string, itemId: string) => ({ ...keys.wipMember(tenantId, subjectKey, itemId), tenantId, subject: subjectKey, itemId });

/**
 * Makes an item count against a subject, unless a newer version of the item already decided. A row
 * that is already live keeps its `member` (and so when the item joined); a tombstone comes back to life.
 */
const joinRow = (db: Db, tenantId: string, subject: WipSubject, item: WorkItem) =>
  db.doc
    .send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.wipMember(tenantId, subject.key, item.id),
        UpdateExpression: 'SET tenantId = :t, #subject = :s, itemId = :i, v = :v, #name = :name, #member = if_not_exists(#member, :member) REMOVE gone, expiresAt',
        ConditionExpression: 'attribute_not_exists(pk) OR v < :v',
        ExpressionAttributeNames: { '#subject': 'subject', '#name': 'name', '#member': 'member' },
        ExpressionAttributeValues: { ':t': tenantId, ':s': subject.key, ':i': item.id, ':v': item.version, ':name': subject.name, ':member': wipMemberOf(item) },
      }),
    )
    .catch(ignoreLostRace);

/** Makes an item stop counting against a subject (a tombstone at its version), unless a newer version already decided. */
const leaveRow = (db: Db, tenantId: string, subjectKey: string, item: WorkItem, now: Date) =>
  db.doc
    .send(
      new PutCommand({
        TableName: db.table,
        Item: { ...rowKey(tenantId, subjectKey, item.id), v: item.version, ...tombstone(now) },
        ConditionExpression: 'attribute_not_exists(pk) OR v < :v',
        ExpressionAttributeValues: { ':v': item.version },
      }),
    )
    .catch(ignoreLostRace);

/**
 * Moves an item's membership rows from what it counted against before (`before`) to what it
 * counts against now, and renames it in the rows it keeps when its ref or title changed (an erasure
 * scrubs titles too). Returns the subjects whose work in progress may have changed: those added or
 * removed. Without `before` (a new item, or a re-run after a crash) every current subject is written
 * again and returned; a row a crash left for a former subject waits for the sweep.
 */
export const syncWipMembership = async (db: Db, tenantId: string, item: WorkItem, before: WorkItem | undefined, now: Date): Promise<WipSubject[]> => {
  const current = wipSubjectsOf(item);
  const was = wipSubjectsOf(before);
  const currentKeys = new Set(current.map((s) => s.key));
  const wasKeys = new Set(was.map((s) => s.key));
  const added = current.filter((s) => !wasKeys.has(s.key));
  const removed = was.filter((s) => !currentKeys.has(s.key));
  for (const subject of added) await joinRow(db, tenantId, subject, item);
  for (const subject of removed) await leaveRow(db, tenantId, subject.key, item, now);
  if (before && (before.title !== item.title || before.ref !== item.ref)) {
    for (const subject of current.filter((s) => wasKeys.has(s.key))) await renameInRow(db, tenantId, subject.key, item);
  }
  return [...added, ...removed];
};

/** Sets the item's ref and title in a subject's row it stays in, unless a newer version wrote the row. */
const renameInRow = (db: Db, tenantId: string, subjectKey: string, item: WorkItem) =>
  db.doc
    .send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.wipMember(tenantId, subjectKey, item.id),
        UpdateExpression: 'SET v = :v, #member.#ref = :ref, #member.#title = :title',
        ConditionExpression: 'attribute_exists(#member) AND v < :v AND attribute_not_exists(gone)',
        ExpressionAttributeNames: { '#member': 'member', '#ref': 'ref', '#title': 'title' },
        ExpressionAttributeValues: { ':v': item.version, ':ref': item.ref, ':title': item.title },
      }),
    )
    .catch(ignoreLostRace);

/**
 * Replaces a row the sweep found wrong (its item no longer counts against the subject) with a
 * tombstone at the item's version `version`, unless the row was rewritten since it was read.
 */
export const retireWipRow = async (db: Db, tenantId: string, row: WipRow, version: number, now: Date) => {
  await db.doc
    .send(
      new PutCommand({
        TableName: db.table,
        Item: { ...rowKey(tenantId, row.subjectKey, row.itemId), v: Math.max(version, row.v), ...tombstone(now) },
        ConditionExpression: 'v = :v',
        ExpressionAttributeValues: { ':v': row.v },
      }),
    )
    .catch(ignoreLostRace);
};

/** Stores the item's name in a row written before the hub kept it, unless the row changed since it was read. */
export const keepWipMember = async (db: Db, tenantId: string, row: WipRow, member: WipMember) => {
  await db.doc
    .send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.wipMember(tenantId, row.subjectKey, row.itemId),
        UpdateExpression: 'SET #member = :member',
        ConditionExpression: 'v = :v AND attribute_not_exists(#member) AND attribute_not_exists(gone)',
        ExpressionAttributeNames: { '#member': 'member' },
        ExpressionAttributeValues: { ':v': row.v, ':member': member },
      }),
    )
    .catch(ignoreLostRace);
};

const queryRows = async (db: Db, tenantId: string, prefix?: string): Promise<WipRow[]> =>
  (await readPartition(db, keys.wipOf(tenantId), prefix)).filter((row) => row.gone !== true).map(toRow);

/** The membership rows of one subject (strongly consistent), tombstones left out. */
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

const pairKey = (subjectKey: string, itemId: string): string => `${subjectKey}\u0000${itemId}`;

/** Rows of (subject, item) pairs as stored, tombstones included, keyed by {@link wipPairKey} (strongly consistent BatchGetItem). */
export const readWipPairs = async (db: Db, tenantId: string, pairs: readonly { subjectKey: string; itemId: string }[]): Promise<Map<string, Record<string, unknown>>> => {
  const rows = await batchGet(
    db,
    pairs.map((p) => keys.wipMember(tenantId, p.subjectKey, p.itemId)),
    { consistent: true },
  );
  return new Map(rows.map((row) => [pairKey(String(row.subject), String(row.itemId)), row]));
};

export const wipPairKey = pairKey;

/** The (subject, item) rows {@link wipRowWrites} decides on for an item's change: read them first. */
export const wipPairsOf = (item: WorkItem, before: WorkItem | undefined): { subjectKey: string; itemId: string }[] =>
  [...new Set([...wipSubjectsOf(item), ...wipSubjectsOf(before)].map((s) => s.key))].map((subjectKey) => ({ subjectKey, itemId: item.id }));

/**
 * {@link syncWipMembership} for a batch: the same decisions, made against the rows read just before
 * (`rows`, from {@link readWipPairs}) and written with BatchWriteItem instead of one conditional
 * write each. A row still only moves forward in item versions, as far as the read shows.
 */
export const wipRowWrites = (
  tenantId: string,
  item: WorkItem,
  before: WorkItem | undefined,
  rows: ReadonlyMap<string, Record<string, unknown>>,
  now: Date,
): { writes: WriteRequest[]; moved: WipSubject[] } => {
  const current = wipSubjectsOf(item);
  const was = wipSubjectsOf(before);
  const currentKeys = new Set(current.map((s) => s.key));
  const wasKeys = new Set(was.map((s) => s.key));
  const added = current.filter((s) => !wasKeys.has(s.key));
  const removed = was.filter((s) => !currentKeys.has(s.key));
  const newer = (row: Record<string, unknown> | undefined) => row !== undefined && Number(row.v) >= item.version;
  const writes: WriteRequest[] = [];
  for (const subject of added) {
    const row = rows.get(pairKey(subject.key, item.id));
    if (newer(row)) continue;
    const live = row && row.gone !== true && row.member ? (row.member as WipMember) : undefined;
    writes.push({ PutRequest: { Item: { ...rowKey(tenantId, subject.key, item.id), v: item.version, name: subject.name, member: live ?? wipMemberOf(item) } } });
  }
  for (const subject of removed) {
    if (newer(rows.get(pairKey(subject.key, item.id)))) continue;
    writes.push({ PutRequest: { Item: { ...rowKey(tenantId, subject.key, item.id), v: item.version, ...tombstone(now) } } });
  }
  if (before && (before.title !== item.title || before.ref !== item.ref)) {
    for (const subject of current.filter((s) => wasKeys.has(s.key))) {
      const row = rows.get(pairKey(subject.key, item.id));
      if (!row || newer(row) || row.gone === true || !row.member) continue;
      writes.push({ PutRequest: { Item: { ...row, v: item.version, member: { ...(row.member as WipMember), ref: item.ref, title: item.title } } } });
    }
  }
  return { writes, moved: [...added, ...removed] };
};
