import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from '../core/events.ts';
import { DEFAULT_RETENTION, expiryAfter } from '../core/retention.ts';
import type { Subscription, SubscriptionHealth } from '../core/subscriptions.ts';
import { batchGet, batchWrite } from './batch.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { queryPages } from './partition.ts';
import { decodeStoredEvent, encodeStoredEvent } from './stored-event.ts';

/*
 * Webhook subscriptions and their durable queues (keys in store/keys.ts):
 * - a tenant's subscriptions in one partition (`T#{t}#SUBS`), read with one strongly consistent
 *   Query when events are matched; each also on gsi3 (`subscriptions`), which the dispatcher's
 *   passes walk. The record's configuration (`doc`) changes with a `rev` check; how its deliveries
 *   go (`failingSince`, `lastSuccessAt`…) is kept in separate attributes the dispatcher updates
 *   without touching the configuration, so neither write undoes the other.
 * - one row per (subscription, event) in the subscription's partition (`D#{eventId}`): the event
 *   itself (a copy, so a send needs no other read, and an erasure rewrites it like any stored
 *   event), its state and attempts. Keys are deterministic and the row is created only if absent
 *   (a conditional put): queuing an event again finds its row and changes nothing, so neither a
 *   publisher that retries a batch nor two publishing the same event at once send it again.
 *   A pending row sits on the queue index in its subscription's own partition
 *   (`webhooks#{subId}`), sorted by when it is due.
 * - one row per attempt (`A#{at}#{eventId}#{n}`), listed newest first.
 * - a few send slots (`SLOT#{n}`), which bound the sends under way for the subscription across
 *   dispatchers (below).
 *
 * No transactions: a send is claimed with a conditional update that also pushes the row's due
 * time past a lease, so two dispatchers never send it at once, and a dispatcher that dies
 * mid-send leaves it due again when the lease ends (delivered at least once, same `webhook-id`).
 * Nothing else takes a claimed row from its dispatcher before the lease ends: a resume queues
 * again only what nobody holds (a replay, asked to send again, does replace it).
 */

export interface StoredSubscription {
  subscription: Subscription;
  health: SubscriptionHealth;
  rev: number;
}

const conditional = async (write: () => Promise<unknown>): Promise<boolean> => {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

const healthOf = (row: Record<string, unknown>): SubscriptionHealth => ({
  ...(row.failingSince ? { failingSince: String(row.failingSince) } : {}),
  ...(row.lastSuccessAt ? { lastSuccessAt: String(row.lastSuccessAt) } : {}),
  ...(row.lastFailureAt ? { lastFailureAt: String(row.lastFailureAt) } : {}),
  ...(row.lastError ? { lastError: String(row.lastError) } : {}),
});

const storedOf = (row: Record<string, unknown>): StoredSubscription => ({
  subscription: JSON.parse(String(row.doc)) as Subscription,
  health: healthOf(row),
  rev: Number(row.rev ?? 0),
});

/**
 * Writes a subscription's configuration: a new one (`rev` 0) if its id is free, else only if
 * nobody wrote it since `rev` was read. False when the condition failed. `resetHealth` forgets the
 * failing streak in the same write (a resume): a dispatcher that reads the subscription active
 * never sees the streak that disabled it, so it cannot disable it again for that streak.
 */
export const saveSubscription = (db: Db, subscription: Subscription, rev: number, options: { resetHealth?: boolean } = {}): Promise<boolean> =>
  conditional(() =>
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.subscription(subscription.tenantId, subscription.id),
        UpdateExpression: `SET tenantId = :t, doc = :doc, rev = :next, gsi3pk = :g, gsi3sk = :gs${options.resetHealth ? ' REMOVE failingSince' : ''}`,
        ConditionExpression: rev === 0 ? 'attribute_not_exists(pk)' : 'rev = :rev',
        ExpressionAttributeValues: {
          ':t': subscription.tenantId,
          ':doc': JSON.stringify(subscription),
          ':next': rev + 1,
          ':g': keys.subscriptionsIndex,
          ':gs': `${subscription.tenantId}#${subscription.id}`,
          ...(rev === 0 ? {} : { ':rev': rev }),
        },
      }),
    ),
  );

export const getSubscription = async (db: Db, tenantId: string, subscriptionId: string): Promise<StoredSubscription | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.subscription(tenantId, subscriptionId), ConsistentRead: true }));
  return Item?.doc ? storedOf(Item) : undefined;
};

/** Every subscription of a tenant, oldest first (one strongly consistent Query). */
export const listSubscriptions = async (db: Db, tenantId: string): Promise<StoredSubscription[]> => {
  const out: StoredSubscription[] = [];
  for await (const rows of queryPages(db, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
    ExpressionAttributeValues: { ':pk': keys.subscriptionsOf(tenantId), ':sub': 'SUB#' },
    ConsistentRead: true,
  })) {
    out.push(...rows.filter((row) => row.doc).map(storedOf));
  }
  return out.sort((a, b) => a.subscription.createdAt.localeCompare(b.subscription.createdAt) || a.subscription.id.localeCompare(b.subscription.id));
};

/** Every subscription of the hub (gsi3; discovery only: the dispatcher reads each again before it sends). */
export const listAllSubscriptions = async (db: Db): Promise<{ tenantId: string; subscriptionId: string }[]> => {
  const out: { tenantId: string; subscriptionId: string }[] = [];
  for await (const rows of queryPages(db, {
    IndexName: 'gsi3',
    KeyConditionExpression: 'gsi3pk = :p',
    ExpressionAttributeValues: { ':p': keys.subscriptionsIndex },
    ProjectionExpression: 'tenantId, sk',
  })) {
    for (const row of rows) out.push({ tenantId: String(row.tenantId), subscriptionId: String(row.sk).slice('SUB#'.length) });
  }
  return out;
};

export const deleteSubscriptionRecord = async (db: Db, tenantId: string, subscriptionId: string): Promise<void> => {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.subscription(tenantId, subscriptionId) }));
};

/** A 2xx: the subscription is healthy again. */
export const recordSubscriptionSuccess = async (db: Db, tenantId: string, subscriptionId: string, at: string): Promise<void> => {
  await conditional(() =>
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.subscription(tenantId, subscriptionId),
        UpdateExpression: 'SET lastSuccessAt = :at REMOVE failingSince',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    ),
  );
};

/** A failed attempt: starts (or continues) the failing streak; returns the health after it. */
export const recordSubscriptionFailure = async (db: Db, tenantId: string, subscriptionId: string, at: string, error: string): Promise<SubscriptionHealth | undefined> => {
  try {
    const { Attributes } = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.subscription(tenantId, subscriptionId),
        UpdateExpression: 'SET failingSince = if_not_exists(failingSince, :at), lastFailureAt = :at, lastError = :e',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at, ':e': error.slice(0, 500) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes ? healthOf(Attributes) : undefined;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
};

// ── the queue ───────────────────────────────────────────────────────────────────────────────────

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event queued for one subscription. */
export interface QueuedDelivery {
  tenantId: string;
  subscriptionId: string;
  eventId: string;
  type: string;
  event: EventEnvelope;
  /** the event's position in its tenant's log, when known */
  cursor?: string;
  status: DeliveryStatus;
  /** attempts started so far */
  attempts: number;
  /** attempts made before the subscription was last resumed: the retry schedule starts again after them */
  base: number;
  /** when it is due (pending only) */
  nextAt?: string;
  enqueuedAt: string;
  lastStatus?: number;
  lastError?: string;
  deliveredAt?: string;
  /** the claim of the dispatcher sending it now */
  claim?: string;
}

const deliveryOf = (row: Record<string, unknown>): QueuedDelivery => ({
  tenantId: String(row.tenantId),
  subscriptionId: String(row.subscriptionId),
  eventId: String(row.eventId),
  type: String(row.type),
  event: decodeStoredEvent(row.evt),
  ...(row.cursor ? { cursor: String(row.cursor) } : {}),
  status: row.status as DeliveryStatus,
  attempts: Number(row.attempts ?? 0),
  base: Number(row.retryBase ?? 0),
  ...(row.nextAt ? { nextAt: String(row.nextAt) } : {}),
  enqueuedAt: String(row.enqueuedAt),
  ...(row.lastStatus !== undefined ? { lastStatus: Number(row.lastStatus) } : {}),
  ...(row.lastError ? { lastError: String(row.lastError) } : {}),
  ...(row.deliveredAt ? { deliveredAt: String(row.deliveredAt) } : {}),
  ...(row.claim ? { claim: String(row.claim) } : {}),
});

/** Delivered rows are kept this long, so an event published again (a retried publisher batch) is recognised and not sent twice. */
export const DELIVERED_KEEP_MS = 2 * 86_400_000;
/** Attempts are listed for this long. */
export const ATTEMPT_KEEP_DAYS = 7;

const queueKeys = (subscriptionId: string, due: string, eventId: string) => ({ qpk: keys.webhookQueue(subscriptionId), qsk: `${due}#${eventId}` });

export interface DeliveryToQueue {
  tenantId: string;
  subscriptionId: string;
  event: EventEnvelope;
  cursor?: string;
}

const expiryOf = (db: Db, event: EventEnvelope, now: Date): number =>
  Math.max(expiryAfter(event.time, (db.retention ?? DEFAULT_RETENTION).eventDays), Math.floor((now.getTime() + DELIVERED_KEEP_MS) / 1000));

const pendingRow = (db: Db, entry: DeliveryToQueue, now: Date) => {
  const at = now.toISOString();
  return {
    ...keys.subscriptionDelivery(entry.tenantId, entry.subscriptionId, entry.event.id),
    tenantId: entry.tenantId,
    subscriptionId: entry.subscriptionId,
    eventId: entry.event.id,
    type: entry.event.type,
    evt: encodeStoredEvent(entry.event),
    ...(entry.cursor ? { cursor: entry.cursor } : {}),
    status: 'pending',
    attempts: 0,
    nextAt: at,
    enqueuedAt: at,
    ...queueKeys(entry.subscriptionId, at, entry.event.id),
    // A queue kept while the subscription is paused lasts as long as the event log keeps the event.
    expiresAt: expiryOf(db, entry.event, now),
  };
};

/** Conditional puts of new queue rows under way at once (one enqueue call). */
const ENQUEUE_CONCURRENCY = 8;

/**
 * Queues events for subscriptions, due now. Rows that exist already (pending, delivered or
 * failed) are left as they are, unless `replace` (a replay: sent again from the first attempt).
 * Idempotent; resolves with the entries it wrote.
 *
 * Each new row is written with a conditional put (`attribute_not_exists`), not a batch write: an
 * event is published at least once, so two publishers may queue it at the same moment, and the
 * row the other one wrote may already be claimed or delivered when this one writes. An
 * unconditional write would put it back on the queue, and the receiver would get it twice. The
 * strongly consistent read first spares those writes for an event queued long before (a retried
 * batch).
 */
export const enqueueDeliveries = async (db: Db, entries: readonly DeliveryToQueue[], now: Date, options: { replace?: boolean } = {}): Promise<DeliveryToQueue[]> => {
  if (entries.length === 0) return [];
  const unique = [...new Map(entries.map((e) => [`${e.tenantId}\u0000${e.subscriptionId}\u0000${e.event.id}`, e])).values()];
  if (options.replace) {
    await batchWrite(db, unique.map((e) => ({ PutRequest: { Item: pendingRow(db, e, now) } })));
    return unique;
  }
  const existing = await batchGet(
    db,
    unique.map((e) => keys.subscriptionDelivery(e.tenantId, e.subscriptionId, e.event.id)),
    { consistent: true, attributes: ['pk', 'sk'] },
  );
  const present = new Set(existing.map((row) => `${row.pk}\u0000${row.sk}`));
  const candidates = unique.filter((e) => {
    const key = keys.subscriptionDelivery(e.tenantId, e.subscriptionId, e.event.id);
    return !present.has(`${key.pk}\u0000${key.sk}`);
  });
  const written = new Array<boolean>(candidates.length).fill(false);
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const i = next++;
      written[i] = await conditional(() =>
        db.doc.send(new PutCommand({ TableName: db.table, Item: pendingRow(db, candidates[i]!, now), ConditionExpression: 'attribute_not_exists(pk)' })),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(ENQUEUE_CONCURRENCY, candidates.length) }, worker));
  return candidates.filter((_, i) => written[i]);
};

/** Keys of a subscription's pending deliveries due at `now`, soonest due first (queue index: discovery only). */
export const listDueDeliveries = async (db: Db, subscriptionId: string, now: Date, limit: number): Promise<{ pk: string; sk: string }[]> => {
  const { Items } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'queue',
      KeyConditionExpression: 'qpk = :q AND qsk <= :due',
      ExpressionAttributeValues: { ':q': keys.webhookQueue(subscriptionId), ':due': `${now.toISOString()}#\uffff` },
      ProjectionExpression: 'pk, sk',
      Limit: limit,
    }),
  );
  return (Items ?? []).map((row) => ({ pk: String(row.pk), sk: String(row.sk) }));
};

/** When a subscription's soonest pending delivery is due (the queue index), if it has one. */
export const nextDueAt = async (db: Db, subscriptionId: string): Promise<string | undefined> => {
  const { Items } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'queue',
      KeyConditionExpression: 'qpk = :q',
      ExpressionAttributeValues: { ':q': keys.webhookQueue(subscriptionId) },
      ProjectionExpression: 'qsk',
      Limit: 1,
    }),
  );
  const qsk = Items?.[0]?.qsk;
  return qsk ? String(qsk).split('#', 1)[0] : undefined;
};

/**
 * Claims a due delivery for one send: counts the attempt and pushes its due time to the end of the
 * lease, if it is still pending and due. Undefined when another dispatcher got it first.
 */
export const claimDelivery = async (db: Db, key: { pk: string; sk: string }, now: Date, leaseMs: number, claim: string): Promise<QueuedDelivery | undefined> => {
  const until = new Date(now.getTime() + leaseMs).toISOString();
  const subscriptionId = key.pk.slice(key.pk.lastIndexOf('#SUB#') + '#SUB#'.length);
  try {
    const { Attributes } = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: key,
        UpdateExpression: 'SET claim = :c, attempts = attempts + :one, nextAt = :until, qsk = :qsk, lastAttemptAt = :now',
        ConditionExpression: '#s = :pending AND nextAt <= :now',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':c': claim,
          ':one': 1,
          ':until': until,
          ':qsk': queueKeys(subscriptionId, until, key.sk.slice(2)).qsk,
          ':now': now.toISOString(),
          ':pending': 'pending',
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes ? deliveryOf(Attributes) : undefined;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
};

export type DeliveryOutcome =
  | { kind: 'delivered'; at: string; status: number }
  | { kind: 'retry'; at: string; nextAt: string; status?: number; error?: string }
  | { kind: 'failed'; at: string; status?: number; error?: string };

/**
 * Records how a claimed send ended, if the claim still holds (a replay or a resume may have queued
 * the event afresh meanwhile: that newer state stands). Delivered and failed rows leave the queue.
 */
export const completeDelivery = (db: Db, delivery: QueuedDelivery, claim: string, outcome: DeliveryOutcome): Promise<boolean> => {
  const key = keys.subscriptionDelivery(delivery.tenantId, delivery.subscriptionId, delivery.eventId);
  const result = {
    ...(outcome.status !== undefined ? { lastStatus: outcome.status } : {}),
    ...(outcome.kind !== 'delivered' && outcome.error ? { lastError: outcome.error.slice(0, 500) } : {}),
  };
  const sets: Record<string, unknown> = { ...result };
  const removes = ['claim'];
  if (outcome.kind === 'delivered') {
    Object.assign(sets, { status: 'delivered', deliveredAt: outcome.at, expiresAt: Math.floor((Date.parse(outcome.at) + DELIVERED_KEEP_MS) / 1000) });
    removes.push('qpk', 'qsk', 'nextAt', 'lastError');
  } else if (outcome.kind === 'retry') {
    Object.assign(sets, { nextAt: outcome.nextAt, qsk: queueKeys(delivery.subscriptionId, outcome.nextAt, delivery.eventId).qsk });
  } else {
    Object.assign(sets, { status: 'failed', failedAt: outcome.at });
    removes.push('qpk', 'qsk', 'nextAt');
  }
  if (outcome.kind !== 'delivered' && outcome.status === undefined) removes.push('lastStatus');
  const names = Object.keys(sets);
  return conditional(() =>
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: key,
        UpdateExpression: `SET ${names.map((_, i) => `#s${i} = :s${i}`).join(', ')} REMOVE ${removes.map((_, i) => `#r${i}`).join(', ')}`,
        ConditionExpression: 'claim = :claim',
        ExpressionAttributeNames: {
          ...Object.fromEntries(names.map((name, i) => [`#s${i}`, name])),
          ...Object.fromEntries(removes.map((name, i) => [`#r${i}`, name])),
        },
        ExpressionAttributeValues: { ...Object.fromEntries(names.map((name, i) => [`:s${i}`, sets[name]])), ':claim': claim },
      }),
    ),
  );
};

/**
 * Queues again, due now and with a fresh retry schedule, every event of the subscription not
 * delivered yet (pending in backoff, or failed after its last attempt): what a resumed
 * subscription missed.
 *
 * A delivery a dispatcher holds (its claim's lease runs until `nextAt`) is left to it: taking it
 * would drop the claim while the request is on the wire, the dispatcher's outcome would no longer
 * be recorded, and the event would be sent again although the receiver got it. A claim whose lease
 * has ended (its dispatcher died) is queued again like the rest.
 */
export const requeueUndelivered = async (db: Db, tenantId: string, subscriptionId: string, now: Date): Promise<number> => {
  let count = 0;
  const at = now.toISOString();
  for await (const rows of queryPages(db, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
    FilterExpression: '#s <> :delivered',
    ExpressionAttributeNames: { '#s': 'status' },
    ExpressionAttributeValues: { ':pk': keys.subscriptionPartition(tenantId, subscriptionId), ':d': 'D#', ':delivered': 'delivered' },
    ProjectionExpression: 'pk, sk, eventId',
    ConsistentRead: true,
  })) {
    for (const row of rows) {
      const requeued = await conditional(() =>
        db.doc.send(
          new UpdateCommand({
            TableName: db.table,
            Key: { pk: row.pk, sk: row.sk },
            // The attempt numbers go on; the retry schedule starts again from here (`retryBase`).
            UpdateExpression: 'SET #s = :pending, retryBase = attempts, nextAt = :at, qpk = :qpk, qsk = :qsk REMOVE claim, failedAt',
            ConditionExpression: '#s <> :delivered AND (attribute_not_exists(claim) OR nextAt <= :at)',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':pending': 'pending', ':at': at, ...prefixed(queueKeys(subscriptionId, at, String(row.eventId))), ':delivered': 'delivered' },
          }),
        ),
      );
      if (requeued) count++;
    }
  }
  return count;
};

const prefixed = (values: Record<string, unknown>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [`:${k}`, v]));

/** Every row of a subscription's partition (queued events and attempts) deleted; returns how many. */
export const deleteSubscriptionRows = async (db: Db, tenantId: string, subscriptionId: string): Promise<number> => {
  let count = 0;
  for await (const rows of queryPages(db, {
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': keys.subscriptionPartition(tenantId, subscriptionId) },
    ProjectionExpression: 'pk, sk',
    ConsistentRead: true,
  })) {
    await batchWrite(db, rows.map((row) => ({ DeleteRequest: { Key: { pk: row.pk, sk: row.sk } } })));
    count += rows.length;
  }
  return count;
};

// ── send slots ──────────────────────────────────────────────────────────────────────────────────

/*
 * Where several dispatchers send for one subscription (Lambda invocations and the sweep), each send
 * first takes one of the subscription's few send slots: a row per slot in the subscription's
 * partition (`SLOT#{n}`), held until its lease ends, deleted when the send ends. A subscription's
 * sends so run in at most that many places at once, whatever the number of dispatchers; a slot
 * whose holder died frees itself when its lease ends. No index, about 1 WRU to take and 1 to free.
 */

const slotKey = (tenantId: string, subscriptionId: string, slot: number) => ({ pk: keys.subscriptionPartition(tenantId, subscriptionId), sk: `SLOT#${slot}` });

/** One of a subscription's send slots, taken. */
export interface SendSlot {
  tenantId: string;
  subscriptionId: string;
  slot: number;
  holder: string;
}

/**
 * Takes a free send slot among the subscription's first `slots` (free: nobody holds it, or its
 * holder's lease ended) until `now + leaseMs`; undefined when every one is held.
 */
export const takeSendSlot = async (
  db: Db,
  tenantId: string,
  subscriptionId: string,
  slots: number,
  now: Date,
  leaseMs: number,
  random: () => number = Math.random,
): Promise<SendSlot | undefined> => {
  const holder = randomUUID();
  const until = new Date(now.getTime() + leaseMs);
  // A random first slot: dispatchers that look at once do not all write to slot 0.
  const first = Math.floor(random() * slots);
  for (let i = 0; i < slots; i++) {
    const slot = (first + i) % slots;
    const taken = await conditional(() =>
      db.doc.send(
        new PutCommand({
          TableName: db.table,
          Item: { ...slotKey(tenantId, subscriptionId, slot), tenantId, holder, heldUntil: until.toISOString(), expiresAt: Math.floor(until.getTime() / 1000) + 86_400 },
          ConditionExpression: 'attribute_not_exists(pk) OR #u <= :now',
          ExpressionAttributeNames: { '#u': 'heldUntil' },
          ExpressionAttributeValues: { ':now': now.toISOString() },
        }),
      ),
    );
    if (taken) return { tenantId, subscriptionId, slot, holder };
  }
  return undefined;
};

/** Frees a send slot, if its holder still holds it (a lapsed lease may have gone to another). */
export const releaseSendSlot = async (db: Db, slot: SendSlot): Promise<void> => {
  await conditional(() =>
    db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: slotKey(slot.tenantId, slot.subscriptionId, slot.slot),
        ConditionExpression: '#h = :h',
        ExpressionAttributeNames: { '#h': 'holder' },
        ExpressionAttributeValues: { ':h': slot.holder },
      }),
    ),
  );
};

// ── attempts ────────────────────────────────────────────────────────────────────────────────────

/** One attempt to deliver an event, as `GET /v1/subscriptions/{id}/attempts` lists it. */
export interface DeliveryAttempt {
  eventId: string;
  eventType: string;
  attempt: number;
  /** when the attempt started */
  at: string;
  durationMs: number;
  /** the receiver's HTTP status, when it answered */
  status?: number;
  /** why it failed without a status (refused target, timeout, connection error), or what the status means */
  error?: string;
  outcome: 'delivered' | 'retrying' | 'failed';
  /** when the next attempt is due; absent once delivered or given up */
  nextAttemptAt?: string;
}

export const recordAttempt = async (db: Db, tenantId: string, subscriptionId: string, attempt: DeliveryAttempt): Promise<void> => {
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: {
        ...keys.subscriptionAttempt(tenantId, subscriptionId, attempt.at, attempt.eventId, attempt.attempt),
        tenantId,
        attempt: JSON.stringify(attempt),
        expiresAt: expiryAfter(attempt.at, ATTEMPT_KEEP_DAYS),
      },
    }),
  );
};

/** A subscription's attempts, newest first. */
export const listAttempts = async (
  db: Db,
  tenantId: string,
  subscriptionId: string,
  page: { limit: number; cursor?: string; eventId?: string },
): Promise<{ items: DeliveryAttempt[]; nextCursor: string | null }> => {
  const partition = keys.subscriptionPartition(tenantId, subscriptionId);
  const items: DeliveryAttempt[] = [];
  let startKey = page.cursor ? decodeCursor(page.cursor, `${partition}#attempts`) : undefined;
  for (;;) {
    const result = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)',
        ExpressionAttributeValues: { ':pk': partition, ':a': 'A#' },
        ScanIndexForward: false,
        Limit: page.limit - items.length,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const row of result.Items ?? []) {
      const attempt = JSON.parse(String(row.attempt)) as DeliveryAttempt;
      if (!page.eventId || attempt.eventId === page.eventId) items.push(attempt);
    }
    startKey = result.LastEvaluatedKey;
    if (!startKey || items.length >= page.limit) break;
  }
  return { items, nextCursor: startKey ? encodeCursor(`${partition}#attempts`, startKey) : null };
};

/** A subscription's queued events (state only, not the events), for the export. */
export async function* subscriptionDeliveryPages(db: Db, tenantId: string, subscriptionId: string): AsyncGenerator<Omit<QueuedDelivery, 'event' | 'claim'>[]> {
  for await (const rows of queryPages(db, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
    ExpressionAttributeValues: { ':pk': keys.subscriptionPartition(tenantId, subscriptionId), ':d': 'D#' },
    Limit: 100,
  })) {
    yield rows.map((row) => {
      const { event: _event, claim: _claim, ...rest } = deliveryOf(row);
      return rest;
    });
  }
}

/** A subscription's attempts, oldest first, for the export. */
export async function* subscriptionAttemptPages(db: Db, tenantId: string, subscriptionId: string): AsyncGenerator<DeliveryAttempt[]> {
  for await (const rows of queryPages(db, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)',
    ExpressionAttributeValues: { ':pk': keys.subscriptionPartition(tenantId, subscriptionId), ':a': 'A#' },
    Limit: 100,
  })) {
    yield rows.map((row) => JSON.parse(String(row.attempt)) as DeliveryAttempt);
  }
}

/** One queued delivery as stored, if any. */
export const getDelivery = async (db: Db, tenantId: string, subscriptionId: string, eventId: string): Promise<QueuedDelivery | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.subscriptionDelivery(tenantId, subscriptionId, eventId), ConsistentRead: true }));
  return Item ? deliveryOf(Item) : undefined;
};
