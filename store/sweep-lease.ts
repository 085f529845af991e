import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * The lease and cursor of a sweep that walks a long list in several runs (`SWEEP#{name} / LEASE`).
 * AWS schedules can start a run while the previous one still works, and a run can die at any point:
 * - a run takes the lease (owner, until) with a conditional write; a live lease of another owner
 *   makes it stand down, so two runs never walk the list at once;
 * - the holder records its cursor as it goes and extends the lease with each record, conditionally
 *   on the record's `rev`: a holder whose lease expired and was taken over learns it on its next
 *   write and stops;
 * - a run that died leaves its lease to expire; the next run takes it over and resumes after the
 *   cursor. At most the work since the last recorded cursor is done twice, and it is idempotent.
 */
export interface SweepLease {
  name: string;
  owner?: string;
  /** ISO time after which another run may take the lease over */
  until?: string;
  /** where the current round stopped: the key of the last entry done; absent at the start of a round */
  cursor?: string;
  /** rounds completed (a round is one pass over the whole list) */
  rounds: number;
  rev: number;
}

const read = async (db: Db, name: string): Promise<SweepLease> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.sweepLease(name), ConsistentRead: true }));
  return {
    name,
    ...(Item?.owner ? { owner: String(Item.owner) } : {}),
    ...(Item?.until ? { until: String(Item.until) } : {}),
    ...(Item?.cursor ? { cursor: String(Item.cursor) } : {}),
    rounds: Number(Item?.rounds ?? 0),
    rev: Number(Item?.rev ?? 0),
  };
};

/** Writes the next state of a lease if nobody wrote it since `previous` was read. */
const write = async (db: Db, previous: SweepLease, next: Omit<SweepLease, 'rev' | 'name'>): Promise<SweepLease | undefined> => {
  const item = { ...next, name: previous.name, rev: previous.rev + 1 };
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...keys.sweepLease(previous.name), ...item },
        ConditionExpression: previous.rev === 0 ? 'attribute_not_exists(pk)' : 'rev = :rev',
        ...(previous.rev === 0 ? {} : { ExpressionAttributeValues: { ':rev': previous.rev } }),
      }),
    );
    return item;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
};

export const readSweepLease = read;

/**
 * Takes the lease for `ttlMs` unless another owner holds a live one. Returns the lease (with the
 * cursor to resume after), or undefined when another run holds it.
 */
export const acquireSweepLease = async (db: Db, name: string, owner: string, now: Date, ttlMs: number): Promise<SweepLease | undefined> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await read(db, name);
    const held = current.owner !== undefined && current.owner !== owner && current.until !== undefined && Date.parse(current.until) > now.getTime();
    if (held) return undefined;
    const { cursor, rounds } = current;
    const taken = await write(db, current, { owner, until: new Date(now.getTime() + ttlMs).toISOString(), ...(cursor ? { cursor } : {}), rounds });
    if (taken) return taken;
  }
  return undefined;
};

/**
 * Records progress: the cursor of the last entry done (undefined once the round is complete: the
 * next run starts over) and a lease extended to `now + ttlMs`. Returns the lease, or undefined
 * when it was lost to another run.
 */
export const recordSweepProgress = (db: Db, lease: SweepLease, cursor: string | undefined, now: Date, ttlMs: number) =>
  write(db, lease, {
    ...(lease.owner ? { owner: lease.owner } : {}),
    until: new Date(now.getTime() + ttlMs).toISOString(),
    ...(cursor !== undefined ? { cursor } : {}),
    rounds: lease.rounds + (cursor === undefined ? 1 : 0),
  });

/** Gives the lease up (keeping the cursor), so the next run need not wait for it to expire. */
export const releaseSweepLease = (db: Db, lease: SweepLease) =>
  write(db, lease, { ...(lease.cursor ? { cursor: lease.cursor } : {}), rounds: lease.rounds });
