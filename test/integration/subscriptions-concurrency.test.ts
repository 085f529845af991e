import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dispatchAll } from '../../bus/webhook-dispatcher.ts';
import { WebhookRunner } from '../../bus/webhook-runner.ts';
import { createWebhookSender } from '../../bus/webhook-sender.ts';
import { EVENT_SCHEMA_VERSION, type EventEnvelope } from '../../core/events.ts';
import type { Logger } from '../../core/ports.ts';
import { type Subscription, newWebhookSecret } from '../../core/subscriptions.ts';
import { loadLambdaConfig } from '../../functions/aws-config.ts';
import { createDispatcherHandler } from '../../functions/lambda/dispatcher.ts';
import { createLambdaRuntime } from '../../functions/lambda/runtime.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import {
  enqueueDeliveries,
  getDelivery,
  listAllSubscriptions,
  recordSubscriptionFailure,
  releaseSendSlot,
  saveSubscription,
  takeSendSlot,
} from '../../store/subscriptions.ts';
import { sqsEventOf } from '../fixtures/lambda/events.ts';
import { OPERATOR_TOKEN, noNames, uniqueTable } from '../support/hub.ts';
import { type Receiver, startReceiver } from '../support/webhook-receiver.ts';

/*
 * A slow or dead receiver never delays other subscriptions: each subscription's sends are bounded
 * (2 at once, 1 while its attempts fail), in the Lambda dispatcher across the messages of a batch
 * and across invocations (send slots in the table), and in the local runner, whose process-wide
 * slots keep a share for receivers that answer however many others hang.
 */

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/**
 * A receiver on loopback that never answers while `hanging` (then 204), counting the connections
 * open at once, per path and in all: the hub opens one connection per request.
 */
const startHangingReceiver = async () => {
  const open = new Map<string, number>();
  const state = {
    hanging: true,
    url: '',
    /** most connections open at once, in all and per path */
    most: 0,
    mostPerPath: new Map<string, number>(),
    /** webhook-id of every request, and of every one answered 204 */
    requested: [] as string[],
    answered: [] as string[],
    /** when the first request ended (the hub gave up on it), epoch ms */
    firstEndedAt: undefined as number | undefined,
    get openNow() {
      return [...open.values()].reduce((a, b) => a + b, 0);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    open.set(path, (open.get(path) ?? 0) + 1);
    state.most = Math.max(state.most, state.openNow);
    state.mostPerPath.set(path, Math.max(state.mostPerPath.get(path) ?? 0, open.get(path)!));
    res.on('close', () => {
      open.set(path, open.get(path)! - 1);
      state.firstEndedAt ??= Date.now();
    });
    const id = String(req.headers['webhook-id']);
    state.requested.push(id);
    req.resume();
    req.on('end', () => {
      if (state.hanging) return;
      state.answered.push(id);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
};

let sequence = 0;
const eventOf = (type: 'work.item.created' | 'work.item.updated', tenantId = 'default'): EventEnvelope => {
  const n = ++sequence;
  return {
    id: `evt_conc${n}${Date.now().toString(36)}`,
    type,
    time: new Date().toISOString(),
    tenantId,
    subject: `github:octo/api#${n}`,
    schemaVersion: EVENT_SCHEMA_VERSION,
    data: { item: { id: `wi_${n}`, title: `Issue ${n}` } },
  };
};

const subscribe = async (db: Db, id: string, url: string, types: string[], tenantId = 'default'): Promise<Subscription> => {
  const at = new Date().toISOString();
  const subscription: Subscription = { id, tenantId, url, types, format: 'json', status: 'active', secrets: [{ value: newWebhookSecret(), createdAt: at }], createdAt: at, updatedAt: at };
  expect(await saveSubscription(db, subscription, 0)).toBe(true);
  return subscription;
};

describe('send slots in the table', () => {
  it('gives at most `slots` holders a slot at once; a freed slot or one whose lease ended goes to the next', async () => {
    const db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('slots') });
    await ensureTable(db);
    const t0 = new Date('2030-01-01T00:00:00.000Z');
    const take = (seconds: number, slots = 2) => takeSendSlot(db, 't1', 'sub_slots', slots, new Date(t0.getTime() + seconds * 1000), 30_000);
    const a = await take(0);
    const b = await take(0);
    expect([a?.slot, b?.slot].sort()).toEqual([0, 1]);
    expect(await take(1)).toBeUndefined();
    // A failing subscription has one slot: held already.
    expect(await take(1, 1)).toBeUndefined();
    await releaseSendSlot(db, a!);
    const c = await take(2);
    expect(c?.slot).toBe(a!.slot);
    // The holder whose slot went to another frees nothing of the new holder's.
    await releaseSendSlot(db, a!);
    expect(await take(3)).toBeUndefined();
    // A holder that died: its slot frees itself when the lease ends.
    const d = await take(31);
    expect(d?.slot).toBe(b!.slot);
    expect(d?.holder).not.toBe(b!.holder);
  });
});

describe('the Lambda dispatcher bounds each subscription’s sends across a batch and across invocations', () => {
  let db: Db;
  let offset = 0;
  let dispatcher: ReturnType<typeof createDispatcherHandler>;
  let hanging: Awaited<ReturnType<typeof startHangingReceiver>>;
  let healthy: Receiver;
  const sender = createWebhookSender({ allowPrivate: true, resolver: noNames }, { timeoutMs: 3_000 });

  beforeAll(async () => {
    const config = loadLambdaConfig({
      TRIBUTARY_TABLE: uniqueTable('dispconc'),
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      TRIBUTARY_BUS_NAME: 'tributary-test-Events',
      TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN,
      TRIBUTARY_LOG_LEVEL: 'silent',
      TRIBUTARY_ALLOW_PRIVATE_TARGETS: 'true',
    });
    const runtime = createLambdaRuntime(config, { clock: () => new Date(Date.now() + offset), resolver: noNames, emit: () => undefined });
    db = runtime.db;
    await ensureTable(db);
    // The hub's sender, with a 3 s timeout instead of 15 s so the test does not wait that long.
    dispatcher = createDispatcherHandler({ ...runtime, webhookSender: () => sender });
    hanging = await startHangingReceiver();
    healthy = await startReceiver();
  });
  afterAll(async () => {
    await hanging.close();
    await healthy.close();
  });

  it('sends another subscription’s events of the same batches at once while one receiver hangs, which never has more than 2 requests open; none is lost', async () => {
    const dead = await subscribe(db, 'sub_hangs', `${hanging.url}/hooks`, ['work.item.created']);
    const alive = await subscribe(db, 'sub_answers', healthy.url, ['work.item.updated']);
    const created = Array.from({ length: 4 }, () => eventOf('work.item.created'));
    const updated = Array.from({ length: 3 }, () => eventOf('work.item.updated'));
    // Two invocations at once, their batches mixing both subscriptions' events.
    const first = sqsEventOf(...[created[0]!, updated[0]!, created[1]!, created[2]!, updated[1]!].map((detail) => ({ detail })));
    const second = sqsEventOf(...[created[3]!, updated[2]!].map((detail) => ({ detail })));
    // 40 s left: sends start in the first 5 s only (a claim needs 30 s before the deadline), which keeps the test short.
    const context = { getRemainingTimeInMillis: () => 40_000 };
    const invocations = Promise.all([dispatcher(first, context), dispatcher(second, context)]);

    // The answering subscription's events go out while the other's first requests still hang (3 s).
    await expect.poll(() => healthy.delivered().length, { timeout: 10_000, interval: 20 }).toBe(3);
    expect(hanging.requested.length).toBeGreaterThan(0);
    expect(Math.max(...healthy.received.map((r) => r.at))).toBeLessThan(hanging.firstEndedAt ?? Number.POSITIVE_INFINITY);
    expect(healthy.received.map((r) => r.headers['webhook-id']).sort()).toEqual(updated.map((e) => e.id).sort());

    const results = await invocations;
    // One pass per subscription per batch, and two send slots in the table for both invocations.
    expect(hanging.most).toBeLessThanOrEqual(2);
    expect(hanging.requested.length).toBeGreaterThanOrEqual(2);
    expect(new Set(hanging.requested).size).toBeLessThanOrEqual(created.length);
    for (const id of hanging.requested) expect(created.map((e) => e.id)).toContain(id);
    // Nothing handed back for the answering subscription's messages; the hanging one's that have a retry within 15 minutes come back.
    const handedBack = new Set(results.flatMap((r) => r.batchItemFailures.map((f) => f.itemIdentifier)));
    const messageOf = new Map([...first.Records, ...second.Records].map((r) => [JSON.parse(r.body).detail.id as string, r.messageId]));
    for (const e of updated) expect(handedBack.has(messageOf.get(e.id)!)).toBe(false);
    for (const e of updated) expect(await getDelivery(db, 'default', alive.id, e.id)).toMatchObject({ status: 'delivered', attempts: 1 });

    // The receiver comes back; the sweep sends every event that was not delivered, with its own webhook-id.
    hanging.hanging = false;
    offset += 40 * 60_000;
    const report = await dispatchAll({ db, clock: () => new Date(Date.now() + offset), log: silent, send: sender }, { listAll: () => listAllSubscriptions(db) });
    expect(report.attempted).toBe(created.length);
    expect(hanging.answered.sort()).toEqual(created.map((e) => e.id).sort());
    for (const e of created) expect(await getDelivery(db, 'default', dead.id, e.id)).toMatchObject({ status: 'delivered' });
    expect(hanging.most).toBeLessThanOrEqual(2);
  }, 60_000);
});

describe('the local runner keeps slots for receivers that answer, however many others hang', () => {
  let db: Db;
  let hanging: Awaited<ReturnType<typeof startHangingReceiver>>;
  let healthy: Receiver;
  let runner: WebhookRunner | undefined;

  beforeAll(async () => {
    db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('runfair') });
    await ensureTable(db);
    hanging = await startHangingReceiver();
    healthy = await startReceiver();
  });
  afterAll(async () => {
    await hanging.close();
    await runner?.stop();
    await healthy.close();
  });

  it('sends a healthy subscription’s event at once while 12 failing subscriptions’ receivers hang, each with one request open, 4 in all', async () => {
    const now = new Date();
    const dead: Subscription[] = [];
    for (let n = 0; n < 12; n++) {
      const subscription = await subscribe(db, `sub_dead${n}`, `${hanging.url}/hooks/${n}`, ['work.item.created']);
      // Their last attempts timed out: failing.
      await recordSubscriptionFailure(db, 'default', subscription.id, now.toISOString(), 'no answer within 15 s');
      dead.push(subscription);
    }
    await enqueueDeliveries(
      db,
      dead.flatMap((s) => Array.from({ length: 3 }, () => ({ tenantId: 'default', subscriptionId: s.id, event: eventOf('work.item.created') }))),
      now,
    );
    const alive = await subscribe(db, 'sub_alive', healthy.url, ['work.item.created']);
    runner = new WebhookRunner({
      db,
      clock: () => new Date(),
      log: silent,
      // 10 s: a slot a hanging receiver holds stays held for the whole test.
      send: createWebhookSender({ allowPrivate: true, resolver: noNames }, { timeoutMs: 10_000 }),
      passMs: 60_000,
      maxInFlight: 8,
    });
    runner.start();
    // The failing subscriptions fill their share of the process's slots (half of 8), one request each.
    await expect.poll(() => hanging.openNow, { timeout: 5_000, interval: 20 }).toBe(4);

    const event = eventOf('work.item.created');
    await enqueueDeliveries(db, [{ tenantId: 'default', subscriptionId: alive.id, event }], new Date());
    const started = Date.now();
    runner.kick('default', alive.id);
    await expect.poll(() => healthy.delivered().length, { timeout: 5_000, interval: 20 }).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(healthy.received[0]!.headers['webhook-id']).toBe(event.id);

    // Still: one request per hanging receiver, four in all.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hanging.most).toBe(4);
    expect(Math.max(...hanging.mostPerPath.values())).toBe(1);
  }, 30_000);
});

describe('the local runner stops', () => {
  it('stops while a lane, asked to look again, is still looking for work', async () => {
    const db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('runstop') });
    await ensureTable(db);
    const receiver = await startReceiver();
    try {
      const subscription = await subscribe(db, 'sub_stops', receiver.url, ['work.item.created']);
      const runner = new WebhookRunner({ db, clock: () => new Date(), log: silent, send: createWebhookSender({ allowPrivate: true, resolver: noNames }), passMs: 60_000 });
      runner.start();
      // The first kick reads the subscription; the second, while it reads, asks the lane to look again.
      runner.kick('default', subscription.id);
      runner.kick('default', subscription.id);
      const stopped = runner.stop().then(() => 'stopped');
      const hung = new Promise((resolve) => setTimeout(resolve, 5_000, 'still stopping after 5 s')).then(String);
      expect(await Promise.race([stopped, hung])).toBe('stopped');
      expect(runner.size).toBe(0);
    } finally {
      await receiver.close();
    }
  });
});
