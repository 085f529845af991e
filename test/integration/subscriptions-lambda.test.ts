import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EVENT_SCHEMA_VERSION, type EventEnvelope } from '../../core/events.ts';
import { loadLambdaConfig } from '../../functions/aws-config.ts';
import { type HttpEvent, createApiHandler } from '../../functions/lambda/api.ts';
import { createDispatcherHandler } from '../../functions/lambda/dispatcher.ts';
import { type LambdaRuntime, createLambdaRuntime } from '../../functions/lambda/runtime.ts';
import { createSweepHandler } from '../../functions/lambda/sweep.ts';
import { ensureTable } from '../../store/db.ts';
import { keepEventPayload } from '../../store/event-payloads.ts';
import { functionUrlRequest, scheduledTick, sqsEventOf } from '../fixtures/lambda/events.ts';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LOCAL_AWS } from '../support/fake-eventbridge.ts';
import { OPERATOR_TOKEN, noNames, uniqueTable } from '../support/hub.ts';
import { type Receiver, startReceiver, verifyWebhook } from '../support/webhook-receiver.ts';

/** The remaining time Lambda gives an invocation of the dispatcher (its timeout: 2 minutes). */
const context = { getRemainingTimeInMillis: () => 120_000 };

let sequence = 0;
const itemCreated = (title: string): EventEnvelope => {
  const n = ++sequence;
  return {
    id: `evt_lambda${n}${Date.now().toString(36)}`,
    type: 'work.item.created',
    time: new Date().toISOString(),
    tenantId: 'default',
    subject: `github:octo/api#${n}`,
    schemaVersion: EVENT_SCHEMA_VERSION,
    data: { item: { id: `wi_${n}`, ref: `github:octo/api#${n}`, title, source: 'github', category: 'project', container: { source: 'github', key: 'octo/api' } } },
  };
};

describe('the dispatcher Lambda: SQS messages from the bus rule, retries within SQS’s reach, later ones from the sweep', () => {
  const endpoint = inject('dynamodbEndpoint');
  let offset = 0;
  let runtime: LambdaRuntime;
  let api: ReturnType<typeof createApiHandler>;
  let dispatcher: ReturnType<typeof createDispatcherHandler>;
  let sweep: ReturnType<typeof createSweepHandler>;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    const config = loadLambdaConfig({
      TRIBUTARY_TABLE: uniqueTable('dispatch'),
      DYNAMODB_ENDPOINT: endpoint,
      TRIBUTARY_BUS_NAME: 'tributary-test-Events',
      TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN,
      TRIBUTARY_LOG_LEVEL: 'silent',
      TRIBUTARY_ALLOW_PRIVATE_TARGETS: 'true',
      TRIBUTARY_PUBLIC_URL: 'https://tributary.example.test',
    });
    // The sweep may publish: to a port on loopback where nothing listens, never to AWS.
    const eventBridge = new EventBridgeClient({ ...LOCAL_AWS, endpoint: 'http://127.0.0.1:9' });
    runtime = createLambdaRuntime(config, { clock: () => new Date(Date.now() + offset), resolver: noNames, emit: () => undefined, eventBridge });
    await ensureTable(runtime.db);
    api = createApiHandler(runtime, { resolver: noNames });
    dispatcher = createDispatcherHandler(runtime);
    sweep = createSweepHandler(runtime);
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
  });

  const call = async (event: HttpEvent) => {
    const result = await api(event);
    return { status: result.statusCode, body: JSON.parse(result.body) };
  };
  const subscribe = async (url: string, extra: Record<string, unknown> = {}) => {
    const body = JSON.stringify({ url, types: ['work.item.*'], ...extra });
    const created = await call(functionUrlRequest({ method: 'POST', path: '/v1/subscriptions', headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' }, body }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as { id: string; secret: string };
  };
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  };

  it('delivers an event from the queue, retrying after 5 s within the invocation; a message received twice sends nothing twice', async () => {
    const target = await receiver((_r, n) => (n === 1 ? 500 : 204));
    const subscription = await subscribe(target.url);
    const event = itemCreated('From the bus');
    const message = sqsEventOf({ detail: event });
    expect(await dispatcher(message, context)).toEqual({ batchItemFailures: [] });
    expect(target.received.map((r) => r.answered)).toEqual([500, 204]);
    expect(target.received[1]!.headers['webhook-id']).toBe(event.id);
    expect(verifyWebhook(target.received[1]!, subscription.secret)).toEqual(event);
    // SQS delivers at least once: the same message again queues and sends nothing.
    expect(await dispatcher(message, context)).toEqual({ batchItemFailures: [] });
    expect(target.received).toHaveLength(2);
  }, 30_000);

  it('hands a message back while a retry is due within 15 minutes, then leaves the later retries to the sweep', async () => {
    let up = false;
    const target = await receiver(() => (up ? 204 : 503));
    const subscription = await subscribe(target.url, { types: ['work.item.created'] });
    const event = itemCreated('Receiver down');
    const message = sqsEventOf({ detail: event, messageId: 'msg-retry' });
    // Attempts 1 and 2 (5 s later, in the invocation) fail; the third is due in about 5 minutes: SQS brings the message back.
    expect(await dispatcher(message, context)).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-retry' }] });
    expect(target.received).toHaveLength(2);
    // Handed back after the visibility timeout (5 minutes): attempt 3 fails, the next is 30 minutes away: beyond SQS's reach.
    offset += 6.5 * 60_000;
    expect(await dispatcher(message, context)).toEqual({ batchItemFailures: [] });
    expect(target.received).toHaveLength(3);
    // The sweep sends the fourth attempt once it is due.
    up = true;
    offset += 37 * 60_000;
    const report = await sweep(scheduledTick(), { getRemainingTimeInMillis: () => 290_000 });
    expect(report.webhooks).toMatchObject({ attempted: 1, delivered: 1 });
    expect(target.received.map((r) => r.answered)).toEqual([503, 503, 503, 204]);
    expect(new Set(target.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([event.id]));
    for (const request of target.received) verifyWebhook(request, subscription.secret, { ignoreTime: true });
  }, 30_000);

  it('fetches the full event behind a pointer (an event over the bus entry limit) and drops what is not a hub event', async () => {
    const target = await receiver();
    await subscribe(target.url, { types: ['work.item.created'] });
    const event = itemCreated('Large');
    const kept = await keepEventPayload(runtime.db, event);
    const { data: _data, ...head } = event;
    const pointer = { ...head, data: {}, pointer: { reason: 'oversize', href: kept.href, bytes: kept.bytes } };
    const result = await dispatcher(sqsEventOf({ detail: pointer, messageId: 'pointer' }, { detail: { hello: 'world' }, source: 'aws.events', messageId: 'other' }), context);
    expect(result).toEqual({ batchItemFailures: [] });
    await expect.poll(() => target.deliveredBodies().filter((e) => e.id === event.id).map((e) => e.data.item.title)).toEqual(['Large']);
  }, 30_000);
});
