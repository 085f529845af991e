import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { WebhookSender } from '../../bus/webhook-sender.ts';
import { type DispatchDeps, dispatchSubscription } from '../../bus/webhook-dispatcher.ts';
import { createConnectorRegistry } from '../../connectors/index.ts';
import { EVENT_SCHEMA_VERSION, type EventEnvelope } from '../../core/events.ts';
import type { Logger } from '../../core/ports.ts';
import type { Subscription } from '../../core/subscriptions.ts';
import { createApp } from '../../functions/http/app.ts';
import { ConnectionCache } from '../../pipeline/connection-cache.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import {
  claimDelivery,
  completeDelivery,
  enqueueDeliveries,
  getDelivery,
  getSubscription,
  listDueDeliveries,
  recordSubscriptionFailure,
  requeueUndelivered,
  saveSubscription,
} from '../../store/subscriptions.ts';
import { OPERATOR_TOKEN, uniqueTable } from '../support/hub.ts';

/*
 * The durable queue of a subscription under the races a busy hub runs into: a resume (PATCH
 * status active) while the dispatcher sends, a publisher queuing an event again while another
 * process delivers it. Each interleaving is forced with a table handle that runs the competing
 * step at the exact point between two writes, so these cases fail or pass every time.
 */

const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const DAY_S = 86_400;

const event = (n: number, tenantId = 't1'): EventEnvelope => ({
  id: `evt_race${n}`,
  type: 'work.item.created',
  time: T0.toISOString(),
  tenantId,
  subject: `github:octo/api#${n}`,
  schemaVersion: EVENT_SCHEMA_VERSION,
  data: { item: { title: `Issue ${n}` } },
});

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/** A table handle that runs `after(command)` once a command of the kind `when` picks has been answered. */
const interposed = (db: Db, when: (command: unknown) => boolean, after: () => Promise<unknown>): Db => {
  let fired = false;
  const send = async (command: unknown) => {
    const answer = await (db.doc.send as (c: unknown) => Promise<unknown>)(command);
    if (!fired && when(command)) {
      fired = true;
      await after();
    }
    return answer;
  };
  return { ...db, doc: { send } as unknown as Db['doc'] };
};

describe('the subscription queue under races: a delivery is sent by one dispatcher at a time, and never queued again once delivered', () => {
  let db: Db;
  beforeAll(async () => {
    db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('subrace') });
    await ensureTable(db);
  });

  it('leaves a delivery under a live claim to the dispatcher sending it when a resume queues the undelivered again; a lapsed claim is queued again', async () => {
    const entry = (n: number) => ({ tenantId: 't1', subscriptionId: 'sub_claim', event: event(n) });
    const key = (n: number) => ({ pk: 'T#t1#SUB#sub_claim', sk: `D#evt_race${n}` });
    await enqueueDeliveries(db, [entry(1), entry(2)], at(0));
    const held = (await claimDelivery(db, key(1), at(1), 30_000, 'claim-a'))!;

    // The resume, a second later: the first is being sent; only the second is queued again.
    expect(await requeueUndelivered(db, 't1', 'sub_claim', at(2))).toBe(1);
    expect(await claimDelivery(db, key(1), at(2), 30_000, 'claim-b')).toBeUndefined();
    expect(await completeDelivery(db, held, 'claim-a', { kind: 'delivered', at: at(3).toISOString(), status: 204 })).toBe(true);
    expect(await getDelivery(db, 't1', 'sub_claim', 'evt_race1')).toMatchObject({ status: 'delivered', attempts: 1 });
    expect((await listDueDeliveries(db, 'sub_claim', at(1000), 10)).map((k) => k.sk)).toEqual(['D#evt_race2']);

    // A claim whose dispatcher died (its lease ended): the resume queues it again, for the next attempt.
    const lost = (await claimDelivery(db, key(2), at(10), 30_000, 'claim-c'))!;
    expect(await requeueUndelivered(db, 't1', 'sub_claim', at(41))).toBe(1);
    const requeued = await getDelivery(db, 't1', 'sub_claim', 'evt_race2');
    expect(requeued).toMatchObject({ status: 'pending', attempts: 1, base: 1, nextAt: at(41).toISOString() });
    expect(requeued?.claim).toBeUndefined();
    expect(await completeDelivery(db, lost, 'claim-c', { kind: 'delivered', at: at(42).toISOString(), status: 204 })).toBe(false);
  });

  it('does not queue again an event another process queued and delivered, or is sending, between the check for its row and the write', async () => {
    const entry = (n: number) => ({ tenantId: 't1', subscriptionId: 'sub_pub', event: event(n) });
    const key = (n: number) => ({ pk: 'T#t1#SUB#sub_pub', sk: `D#evt_race${n}` });
    const isRead = (command: unknown) => command instanceof BatchGetCommand;

    // One event published twice at once (at least once): this publisher finds no row, and before
    // it writes one, the other publisher queues the event and a dispatcher delivers it…
    const delivered = interposed(db, isRead, async () => {
      await enqueueDeliveries(db, [entry(1)], at(1));
      const claimed = (await claimDelivery(db, key(1), at(1), 30_000, 'claim-d'))!;
      await completeDelivery(db, claimed, 'claim-d', { kind: 'delivered', at: at(2).toISOString(), status: 200 });
    });
    expect(await enqueueDeliveries(delivered, [entry(1)], at(1))).toEqual([]);
    expect(await getDelivery(db, 't1', 'sub_pub', 'evt_race1')).toMatchObject({ status: 'delivered', attempts: 1 });

    // …or is sending it.
    let sending: Awaited<ReturnType<typeof claimDelivery>>;
    const inFlight = interposed(db, isRead, async () => {
      await enqueueDeliveries(db, [entry(2)], at(4));
      sending = await claimDelivery(db, key(2), at(4), 30_000, 'claim-e');
    });
    expect(await enqueueDeliveries(inFlight, [entry(2)], at(4))).toEqual([]);
    expect(await listDueDeliveries(db, 'sub_pub', at(6), 10)).toEqual([]);
    expect(await completeDelivery(db, sending!, 'claim-e', { kind: 'delivered', at: at(6).toISOString(), status: 200 })).toBe(true);
    expect(await getDelivery(db, 't1', 'sub_pub', 'evt_race2')).toMatchObject({ status: 'delivered', attempts: 1 });

    // An event never queued before is queued, once.
    expect((await enqueueDeliveries(db, [entry(1), entry(3), entry(3)], at(7))).map((e) => e.event.id)).toEqual(['evt_race3']);
  });

  it('resumes a subscription disabled after a day of failures without the dispatcher disabling it again or sending an event twice, wherever its pass lands', async () => {
    const now = at(3 * DAY_S);
    const clock = () => now;
    const subscription: Subscription = {
      id: 'sub_resume',
      tenantId: 'default',
      url: 'https://hooks.example.test/in',
      types: ['work.item.*'],
      format: 'json',
      status: 'disabled',
      disabled: { at: at(DAY_S).toISOString(), reason: 'every attempt has failed since … (24 hours or more)' },
      secrets: [{ value: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', createdAt: T0.toISOString() }],
      createdAt: T0.toISOString(),
      updatedAt: at(DAY_S).toISOString(),
    };
    expect(await saveSubscription(db, subscription, 0)).toBe(true);
    await recordSubscriptionFailure(db, 'default', subscription.id, at(0).toISOString(), 'ECONNREFUSED');
    const events = [1, 2, 3].map((n) => event(n, 'default'));
    await enqueueDeliveries(db, events.map((e) => ({ tenantId: 'default', subscriptionId: subscription.id, event: e })), at(0));

    // The receiver: every send waits until the test lets it answer 200.
    const sent: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const sending = new Promise<void>((resolve) => (started = resolve));
    const send: WebhookSender = async (request) => {
      sent.push(request.headers['webhook-id']!);
      started();
      await released;
      return { status: 200, durationMs: 1 };
    };
    const dispatch: DispatchDeps = { db, clock, log: silent, send };

    // The dispatcher's pass lands right after the write that makes the subscription active, and
    // sends what it finds while the request goes on.
    let pass: Promise<unknown> = Promise.resolve();
    const activates = (command: unknown) =>
      command instanceof UpdateCommand && String(command.input.ExpressionAttributeValues?.[':doc'] ?? '').includes('"status":"active"');
    const racing = interposed(db, activates, async () => {
      pass = dispatchSubscription(dispatch, 'default', subscription.id, { concurrency: 3 });
      await Promise.race([sending, pass]);
    });
    const app = createApp({
      db: racing,
      connectors: createConnectorRegistry(),
      connections: new ConnectionCache(db),
      clock,
      log: silent,
      publicUrl: 'http://localhost',
      maxBodyBytes: 1024 * 1024,
      operatorToken: OPERATOR_TOKEN,
    });
    const response = await app.request(`/v1/subscriptions/${subscription.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'active' }),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).status).toBe('active');

    // The sends answer; then the dispatcher looks again, as the resume asks it to.
    release();
    await pass;
    await dispatchSubscription(dispatch, 'default', subscription.id, { concurrency: 3 });

    const stored = await getSubscription(db, 'default', subscription.id);
    expect(stored?.subscription.status).toBe('active');
    expect(stored?.health.failingSince).toBeUndefined();
    expect(sent.sort()).toEqual(events.map((e) => e.id).sort());
    for (const e of events) expect(await getDelivery(db, 'default', subscription.id, e.id)).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});
