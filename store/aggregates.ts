import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BLOCKED_FLAG, type Contribution, contributionDelta, contributionOf, sumContributions } from '../core/aggregates.ts';
import { randomId, sha256Hex } from '../core/ids.ts';
import { expiryAfter } from '../core/retention.ts';
import { type WriteRequest, batchGet, batchWrite } from './batch.ts';
import type { WorkItem } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { readPartition } from './partition.ts';
import { leaveQueue } from './queue.ts';

/**
 * The summary counters, kept without transactions and without reading the index per request.
 *
 * Each tenant has AGGREGATE_SHARDS counter rows (`T#{t}#AGG / SHARD#{n}`); an item belongs to the
 * shard its id hashes to and has one contribution row in that shard's partition holding the item
 * version it reflects (`v`) and what it adds to the counters (`c`, see core/aggregates.ts).
 *
 * After every item write the processor calls {@link recordContribution}:
 *   1. read the contribution row; if it already reflects this version or a newer one, stop
 *      (replays, duplicates and late, older deliveries change nothing);
 *   2. swap it for the new contribution, conditional on the version read (a lost race re-reads),
 *      and put it on the sparse `aggregates` queue (in flight);
 *   3. ADD `new − old` to the shard's counters (and bump the shard's `rev`);
 *   4. take the row off the queue, conditional on its version, unless it was still queued when
 *      read in 1: the earlier delta may never have been added, and only the repair may say so.
 * Because only the winner of a swap applies its delta and deltas commute, concurrent writers of
 * one item leave the counters exact. The only gap is a crash between 2 and 3 (delta lost) or
 * between 3 and 4 (unknown whether applied): the row then stays on the queue, and the sweep's
 * {@link repairShard} recomputes the shard from its contribution rows, absolutely, conditional on
 * the shard's `rev` (any concurrent ADD makes it retry later), and only when no row of the shard
 * is younger on the queue than the grace period (a writer may still be between 2 and 3).
 */
export const AGGREGATE_SHARDS = 8;

const COUNTER_PREFIX = 'c:';

export const shardOf = (itemId: string): number => Number.parseInt(sha256Hex(itemId).slice(0, 8), 16) % AGGREGATE_SHARDS;

interface ContributionRow {
  v: number;
  c: Contribution;
  queued: boolean;
  since?: string;
}

const readContributionAt = async (db: Db, key: { pk: string; sk: string }): Promise<ContributionRow | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
  return Item ? { v: Number(Item.v), c: (Item.c as string[]) ?? [], queued: Item.qpk !== undefined } : undefined;
};

const addToShard = async (db: Db, tenantId: string, shard: number, delta: Record<string, number>): Promise<void> => {
  const entries = Object.entries(delta);
  const names = Object.fromEntries(entries.map(([key], i) => [`#c${i}`, `${COUNTER_PREFIX}${key}`]));
  const values = Object.fromEntries(entries.map(([, value], i) => [`:c${i}`, value]));
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.aggregateShard(tenantId, shard),
      UpdateExpression: `SET tenantId = :t ADD ${[...entries.map((_, i) => `#c${i} :c${i}`), 'rev :one'].join(', ')}`,
      ...(entries.length ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: { ...values, ':one': 1, ':t': tenantId },
    }),
  );
};


/** Moves the counters to what `item` (its current state) contributes. Idempotent; see the module comment. */
export const recordContribution = async (db: Db, tenantId: string, item: WorkItem, now: Date): Promise<void> =>
  swapContribution(db, tenantId, keys.contribution(tenantId, shardOf(item.id), item.id), item.id, item.version, contributionOf(item), now, item.ref);

/**
 * Moves the `blocked.flag` counter to an item's derived blocked flag (its dependency state, see
 * store/dependency-state.ts), by the same protocol as {@link recordContribution}: a second row per
 * item (`B#{itemId}`) in the same shard, versioned by the dependency state's `rev`. The flag changes
 * when a blocker changes, without the item itself changing, hence a row of its own.
 */
export const recordBlockedContribution = async (db: Db, tenantId: string, itemId: string, rev: number, blocked: boolean, now: Date): Promise<void> =>
  swapContribution(db, tenantId, keys.blockedContribution(tenantId, shardOf(itemId), itemId), itemId, rev, blocked ? [BLOCKED_FLAG] : [], now, itemId);

const swapContribution = async (
  db: Db,
  tenantId: string,
  key: { pk: string; sk: string },
  itemId: string,
  version: number,
  next: Contribution,
  now: Date,
  what: string,
): Promise<void> => {
  const shard = shardOf(itemId);
  for (let attempt = 0; attempt < 50; attempt++) {
    const current = await readContributionAt(db, key);
    if (current && current.v >= version) return;
    try {
      await db.doc.send(
        new PutCommand({
          TableName: db.table,
          Item: { ...key, tenantId, itemId, v: version, c: next, qpk: keys.queue.aggregates, qsk: `${now.toISOString()}#${key.pk}` },
          ConditionExpression: current ? 'v = :v' : 'attribute_not_exists(pk)',
          ...(current ? { ExpressionAttributeValues: { ':v': current.v } } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) continue;
      throw error;
    }
    const delta = contributionDelta(current?.c ?? [], next);
    if (Object.keys(delta).length > 0) await addToShard(db, tenantId, shard, delta);
    // A row that was still queued may hold a delta that never reached the shard (its writer
    // stopped): it stays queued for the sweep's repair, which recomputes the shard absolutely.
    if (!current?.queued) await leaveQueue(db, key, 'v', version);
    return;
  }
  throw new Error(`Gave up recording the contribution of ${what} after 50 write conflicts`);
};

/** The tenant's counters: one Query of AGGREGATE_SHARDS small rows. */
export const readCounters = async (db: Db, tenantId: string): Promise<Record<string, number>> => {
  const { Items } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :shard)',
      ExpressionAttributeValues: { ':pk': keys.aggregateShards(tenantId), ':shard': 'SHARD#' },
    }),
  );
  const totals: Record<string, number> = {};
  for (const row of Items ?? []) {
    for (const [name, value] of Object.entries(row)) {
      if (name.startsWith(COUNTER_PREFIX)) totals[name.slice(COUNTER_PREFIX.length)] = (totals[name.slice(COUNTER_PREFIX.length)] ?? 0) + Number(value);
    }
  }
  return totals;
};

const readShardContributions = (db: Db, tenantId: string, shard: number) => readPartition(db, keys.contributionsOf(tenantId, shard));

export type RepairOutcome = 'repaired' | 'in_flight' | 'conflict';

/**
 * Recomputes one shard's counters from its contribution rows and writes them absolutely, if no
 * online update touched the shard meanwhile. Rows younger on the queue than `graceMs` mean a writer
 * may still be about to ADD its delta: the shard is left for a later sweep.
 */
export const repairShard = async (db: Db, tenantId: string, shard: number, options: { now: Date; graceMs: number }): Promise<RepairOutcome> => {
  const key = keys.aggregateShard(tenantId, shard);
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
  const rev = Number(Item?.rev ?? 0);
  const rows = await readShardContributions(db, tenantId, shard);
  const cutoff = new Date(options.now.getTime() - options.graceMs).toISOString();
  const queued = rows.filter((r) => r.qpk !== undefined);
  if (queued.some((r) => String(r.qsk) >= cutoff)) return 'in_flight';
  const totals = sumContributions(rows.map((r) => (r.c as string[]) ?? []));
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: {
          ...key,
          tenantId,
          rev: rev + 1,
          repairedAt: options.now.toISOString(),
          ...Object.fromEntries(Object.entries(totals).map(([k, n]) => [`${COUNTER_PREFIX}${k}`, n])),
        },
        ConditionExpression: Item ? 'rev = :rev' : 'attribute_not_exists(pk)',
        ...(Item ? { ExpressionAttributeValues: { ':rev': rev } } : {}),
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return 'conflict';
    throw error;
  }
  for (const row of queued) await leaveQueue(db, { pk: String(row.pk), sk: String(row.sk) }, 'v', Number(row.v));
  return 'repaired';
};

/** Recomputes every shard of a tenant (operators, tests; the sweep repairs only shards with rows left on the queue). */
export const repairAggregates = async (db: Db, tenantId: string, options: { now: Date; graceMs?: number }): Promise<RepairOutcome[]> => {
  const outcomes: RepairOutcome[] = [];
  for (let shard = 0; shard < AGGREGATE_SHARDS; shard++) {
    outcomes.push(await repairShard(db, tenantId, shard, { now: options.now, graceMs: options.graceMs ?? 60_000 }));
  }
  return outcomes;
};

/** The shard of a contribution row, from its partition key `T#{t}#AGGC#{n}`. */
export const shardOfContributionKey = (pk: string): number | undefined => {
  const n = Number(pk.split('#AGGC#')[1]);
  return Number.isInteger(n) ? n : undefined;
};

/** How long a batch's journal row lives after its batch (it is deleted at once unless the batch stopped). */
const JOURNAL_DAYS = 1;

/**
 * {@link recordContribution} for the items a batch wrote, in a handful of requests: the items'
 * contribution rows are read at once, the changed ones written at once, and each shard's summed
 * change applied with one update. Before any of that, a journal row joins the `aggregates` queue in
 * each shard the batch changes; it leaves after the updates. A batch that stopped in between leaves
 * its journal rows queued, and the sweep recomputes those shards from their rows, as it does for
 * {@link recordContribution}'s rows left queued.
 */
export const recordContributions = async (db: Db, tenantId: string, items: readonly WorkItem[], now: Date): Promise<void> => {
  if (items.length === 0) return;
  const keyOf = (item: WorkItem) => keys.contribution(tenantId, shardOf(item.id), item.id);
  const rows = new Map((await batchGet(db, items.map(keyOf), { consistent: true })).map((row) => [String(row.sk), row]));
  const deltas = new Map<number, Record<string, number>>();
  const writes: WriteRequest[] = [];
  for (const item of items) {
    const key = keyOf(item);
    const row = rows.get(key.sk);
    if (row && Number(row.v) >= item.version) continue;
    const next = contributionOf(item);
    // A row still queued (a swap that stopped before its delta, see above) stays queued for the repair.
    const queued = row?.qpk !== undefined ? { qpk: row.qpk, qsk: row.qsk } : {};
    writes.push({ PutRequest: { Item: { ...key, tenantId, itemId: item.id, v: item.version, c: next, ...queued } } });
    const delta = contributionDelta((row?.c as Contribution | undefined) ?? [], next);
    const shard = shardOf(item.id);
    const sum = deltas.get(shard) ?? {};
    for (const [name, n] of Object.entries(delta)) sum[name] = (sum[name] ?? 0) + n;
    deltas.set(shard, sum);
  }
  const changed = [...deltas].filter(([, delta]) => Object.values(delta).some((n) => n !== 0));
  const batchId = randomId('agb');
  const journal = changed.map(([shard]) => {
    const pk = keys.contributionsOf(tenantId, shard);
    return { pk, sk: `J#${batchId}`, tenantId, v: 0, qpk: keys.queue.aggregates, qsk: `${now.toISOString()}#${pk}`, expiresAt: expiryAfter(now.toISOString(), JOURNAL_DAYS) };
  });
  await batchWrite(db, journal.map((Item) => ({ PutRequest: { Item } })));
  await batchWrite(db, writes, { inAnyOrder: true });
  await Promise.all(changed.map(([shard, delta]) => addToShard(db, tenantId, shard, Object.fromEntries(Object.entries(delta).filter(([, n]) => n !== 0)))));
  await batchWrite(db, journal.map((row) => ({ DeleteRequest: { Key: { pk: row.pk, sk: row.sk } } })));
};
