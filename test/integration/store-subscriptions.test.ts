import { beforeAll, describe, expect, inject, it } from 'vitest';
import { EVENT_SCHEMA_VERSION, type EventEnvelope } from '../../core/events.ts';
import type { Subscription } from '../../core/subscriptions.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import {
  claimDelivery,
  completeDelivery,
  deleteSubscriptionRows,
  enqueueDeliveries,
  getDelivery,
  getSubscription,
  listAllSubscriptions,
  listAttempts,
  listDueDeliveries,
  listSubscriptions,
  nextDueAt,
  recordAttempt,
  recordSubscriptionFailure,
  recordSubscriptionSuccess,
  requeueUndelivered,
  saveSubscription,
} from '../../store/subscriptions.ts';
import { uniqueTable } from '../support/hub.ts';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const event = (n: number): EventEnvelope => ({
  id: `evt_store${n}`,
  type: 'work.item.created',
  time: T0.toISOString(),
  tenantId: 't1',
  subject: `github:octo/api#${n}`,
  schemaVersion: EVENT_SCHEMA_VERSION,
  data: { item: { title: `Issue ${n}` } },
});

const subscriptionOf = (id: string, tenantId = 't1'): Subscription => ({
  id,
  tenantId,
  url: 'https://hooks.example.test/in',
  types: ['work.item.*'],
  format: 'json',
  status: 'active',
  secrets: [{ value: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', createdAt: T0.toISOString() }],
  createdAt: T0.toISOString(),
  updatedAt: T0.toISOString(),
});

describe('the subscription store: records, a durable queue per subscription, attempts (no transactions)', () => {
  let db: Db;
  beforeAll(async () => {
    db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('subs') });
    await ensureTable(db);
  });

  it('writes a subscription once per id, then only over the revision it read', async () => {
    const sub = subscriptionOf('sub_a');
    expect(await saveSubscription(db, sub, 0)).toBe(true);
    expect(await saveSubscription(db, sub, 0)).toBe(false);
    const stored = (await getSubscription(db, 't1', 'sub_a'))!;
    expect(stored.rev).toBe(1);
    expect(await saveSubscription(db, { ...sub, status: 'paused' }, 1)).toBe(true);
    expect(await saveSubscription(db, { ...sub, status: 'active' }, 1)).toBe(false);
    expect((await listSubscriptions(db, 't1')).map((s) => [s.subscription.id, s.subscription.status])).toEqual([['sub_a', 'paused']]);
    await saveSubscription(db, subscriptionOf('sub_b', 't2'), 0);
    expect(await listAllSubscriptions(db)).toEqual(expect.arrayContaining([{ tenantId: 't1', subscriptionId: 'sub_a' }, { tenantId: 't2', subscriptionId: 'sub_b' }]));
  });

  it('keeps the failing streak beside the configuration: a configuration write does not undo it, a success ends it', async () => {
    await saveSubscription(db, subscriptionOf('sub_h'), 0);
    expect(await recordSubscriptionFailure(db, 't1', 'sub_h', at(1).toISOString(), 'HTTP 500')).toMatchObject({ failingSince: at(1).toISOString(), lastError: 'HTTP 500' });
    expect((await recordSubscriptionFailure(db, 't1', 'sub_h', at(9).toISOString(), 'HTTP 502'))!.failingSince).toBe(at(1).toISOString());
    expect(await saveSubscription(db, { ...subscriptionOf('sub_h'), description: 'renamed' }, 1)).toBe(true);
    expect((await getSubscription(db, 't1', 'sub_h'))!.health.failingSince).toBe(at(1).toISOString());
    await recordSubscriptionSuccess(db, 't1', 'sub_h', at(10).toISOString());
    expect((await getSubscription(db, 't1', 'sub_h'))!.health).toEqual({ lastSuccessAt: at(10).toISOString(), lastFailureAt: at(9).toISOString(), lastError: 'HTTP 502' });
    expect(await recordSubscriptionFailure(db, 't1', 'sub_gone', at(1).toISOString(), 'x')).toBeUndefined();
  });

  it('queues an event once per subscription however often it is queued, and lists what is due, soonest first', async () => {
    const entries = [1, 2, 3].map((n) => ({ tenantId: 't1', subscriptionId: 'sub_q', event: event(n), cursor: `c${n}` }));
    expect(await enqueueDeliveries(db, entries, at(0))).toHaveLength(3);
    expect(await enqueueDeliveries(db, [...entries, ...entries], at(5))).toEqual([]);
    expect(await getDelivery(db, 't1', 'sub_q', 'evt_store1')).toMatchObject({ status: 'pending', attempts: 0, nextAt: at(0).toISOString(), cursor: 'c1', event: event(1) });
    expect((await listDueDeliveries(db, 'sub_q', at(0), 10)).map((k) => k.sk)).toEqual(['D#evt_store1', 'D#evt_store2', 'D#evt_store3']);
    expect(await listDueDeliveries(db, 'sub_q', at(-1), 10)).toEqual([]);
    expect(await nextDueAt(db, 'sub_q')).toBe(at(0).toISOString());
  });

  it('lets one of two dispatchers claim a delivery; the claim lapses after its lease; only its holder records the outcome', async () => {
    const key = { pk: 'T#t1#SUB#sub_q', sk: 'D#evt_store1' };
    const [a, b] = await Promise.all([claimDelivery(db, key, at(1), 30_000, 'claim-a'), claimDelivery(db, key, at(1), 30_000, 'claim-b')]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    const won = (a ?? b)!;
    expect(won).toMatchObject({ attempts: 1, nextAt: at(31).toISOString() });
    expect(await claimDelivery(db, key, at(20), 30_000, 'claim-c')).toBeUndefined();
    // Its holder died: after the lease, another dispatcher takes it, as the second attempt.
    const retaken = (await claimDelivery(db, key, at(31), 30_000, 'claim-d'))!;
    expect(retaken.attempts).toBe(2);
    expect(await completeDelivery(db, won, won.claim!, { kind: 'delivered', at: at(32).toISOString(), status: 204 })).toBe(false);
    expect(await completeDelivery(db, retaken, 'claim-d', { kind: 'retry', at: at(32).toISOString(), nextAt: at(40).toISOString(), status: 503, error: 'HTTP 503' })).toBe(true);
    expect(await getDelivery(db, 't1', 'sub_q', 'evt_store1')).toMatchObject({ status: 'pending', attempts: 2, nextAt: at(40).toISOString(), lastStatus: 503 });
    expect((await listDueDeliveries(db, 'sub_q', at(32), 10)).map((k) => k.sk)).toEqual(['D#evt_store2', 'D#evt_store3']);
  });

  it('takes delivered and failed events off the queue; a resume queues the undelivered again with their attempt count kept', async () => {
    const two = (await claimDelivery(db, { pk: 'T#t1#SUB#sub_q', sk: 'D#evt_store2' }, at(50), 30_000, 'c2'))!;
    expect(await completeDelivery(db, two, 'c2', { kind: 'delivered', at: at(51).toISOString(), status: 200 })).toBe(true);
    const three = (await claimDelivery(db, { pk: 'T#t1#SUB#sub_q', sk: 'D#evt_store3' }, at(50), 30_000, 'c3'))!;
    expect(await completeDelivery(db, three, 'c3', { kind: 'failed', at: at(51).toISOString(), error: 'ECONNREFUSED' })).toBe(true);
    expect((await listDueDeliveries(db, 'sub_q', at(1000), 10)).map((k) => k.sk)).toEqual(['D#evt_store1']);
    expect(await getDelivery(db, 't1', 'sub_q', 'evt_store3')).toMatchObject({ status: 'failed', lastError: 'ECONNREFUSED' });

    expect(await requeueUndelivered(db, 't1', 'sub_q', at(60))).toBe(2);
    expect((await listDueDeliveries(db, 'sub_q', at(60), 10)).map((k) => k.sk).sort()).toEqual(['D#evt_store1', 'D#evt_store3']);
    expect(await getDelivery(db, 't1', 'sub_q', 'evt_store3')).toMatchObject({ status: 'pending', attempts: 1, base: 1 });
    expect(await getDelivery(db, 't1', 'sub_q', 'evt_store2')).toMatchObject({ status: 'delivered' });
    // A replay queues even a delivered event afresh.
    await enqueueDeliveries(db, [{ tenantId: 't1', subscriptionId: 'sub_q', event: event(2) }], at(70), { replace: true });
    expect(await getDelivery(db, 't1', 'sub_q', 'evt_store2')).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('lists attempts newest first, one event or all, page by page; deleting a subscription deletes its rows', async () => {
    for (const [n, second] of [
      [1, 1],
      [2, 2],
      [1, 3],
    ] as const) {
      await recordAttempt(db, 't1', 'sub_q', { eventId: `evt_store${n}`, eventType: 'work.item.created', attempt: second, at: at(second).toISOString(), durationMs: 12, status: 500, outcome: 'retrying' });
    }
    const first = await listAttempts(db, 't1', 'sub_q', { limit: 2 });
    expect(first.items.map((a) => a.at)).toEqual([at(3).toISOString(), at(2).toISOString()]);
    const rest = await listAttempts(db, 't1', 'sub_q', { limit: 2, cursor: first.nextCursor! });
    expect(rest.items.map((a) => a.at)).toEqual([at(1).toISOString()]);
    expect((await listAttempts(db, 't1', 'sub_q', { limit: 10, eventId: 'evt_store1' })).items.map((a) => a.attempt)).toEqual([3, 1]);
    expect(await deleteSubscriptionRows(db, 't1', 'sub_q')).toBe(6);
    expect(await listDueDeliveries(db, 'sub_q', at(1000), 10)).toEqual([]);
  });
});
