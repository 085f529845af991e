import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { sign } from '@octokit/webhooks-methods';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { EventBridgePublisher } from '../../bus/eventbridge-publisher.ts';
import type { EventEnvelope } from '../../core/events.ts';
import { loadLambdaConfig } from '../../functions/aws-config.ts';
import { type HttpEvent, createApiHandler } from '../../functions/lambda/api.ts';
import { createProcessorHandler } from '../../functions/lambda/processor.ts';
import { createPublisherHandler } from '../../functions/lambda/publisher.ts';
import { createLambdaRuntime, type LambdaRuntime } from '../../functions/lambda/runtime.ts';
import { createSweepHandler } from '../../functions/lambda/sweep.ts';
import { ensureTable } from '../../store/db.ts';
import { keepEventPayload } from '../../store/event-payloads.ts';
import { getDelivery } from '../../store/inbox.ts';
import { keys } from '../../store/keys.ts';
import { listQueued } from '../../store/queue.ts';
import { STREAM_FILTERS } from '../../store/stream-filters.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { functionUrlRequest, httpApiRequest, scheduledTick, streamEventOf, streamRecord } from '../fixtures/lambda/events.ts';
import { matchesAnyFilter } from '../support/event-filter.ts';
import { LOCAL_AWS, startFakeEventBridge } from '../support/fake-eventbridge.ts';
import { OPERATOR_TOKEN, uniqueTable } from '../support/hub.ts';

const BUS = 'tributary-test-Events';

describe('Lambda handlers with real event shapes, against the local engine', () => {
  const endpoint = inject('dynamodbEndpoint');
  const table = uniqueTable('lambda');
  let busFails = false;
  let fake: Awaited<ReturnType<typeof startFakeEventBridge>>;
  let eventBridge: EventBridgeClient;
  let raw: DynamoDBClient;
  let runtime: LambdaRuntime;
  let api: ReturnType<typeof createApiHandler>;
  let processor: ReturnType<typeof createProcessorHandler>;
  let publisher: ReturnType<typeof createPublisherHandler>;
  let connection: { id: string; secret: string; webhookUrl: string };

  const env = (extra: Record<string, string> = {}) => ({
    TRIBUTARY_TABLE: table,
    DYNAMODB_ENDPOINT: endpoint,
    TRIBUTARY_BUS_NAME: BUS,
    TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN,
    TRIBUTARY_LOG_LEVEL: 'silent' as const,
    ...extra,
  });

  beforeAll(async () => {
    fake = await startFakeEventBridge((request) =>
      busFails
        ? { body: { FailedEntryCount: request.body.Entries.length, Entries: request.body.Entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'down' })) } }
        : { body: { FailedEntryCount: 0, Entries: request.body.Entries.map((_, i) => ({ EventId: `eb-${i}` })) } },
    );
    eventBridge = new EventBridgeClient({ ...LOCAL_AWS, endpoint: fake.endpoint });
    raw = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
    runtime = createLambdaRuntime(loadLambdaConfig(env()), { eventBridge });
    await ensureTable(runtime.db);
    api = createApiHandler(runtime);
    processor = createProcessorHandler(runtime);
    publisher = createPublisherHandler(runtime);
  });
  afterAll(async () => {
    eventBridge.destroy();
    raw.destroy();
    await fake.close();
  });

  const call = async (event: HttpEvent, handler = api) => {
    const result = await handler(event);
    const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
    const contentType = String((result.headers as Record<string, string>)['content-type'] ?? '');
    return { status: result.statusCode, headers: result.headers as Record<string, string>, body: contentType.includes('json') ? JSON.parse(body) : body };
  };

  const operator = { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' };

  const githubDelivery = async (event: string, payload: unknown, deliveryId: string) => {
    const body = JSON.stringify(payload);
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': await sign(connection.secret, body),
        'user-agent': 'GitHub-Hookshot/test',
      },
    };
  };

  /** A real `issues.opened` payload about another issue, so it creates an item (and events) of its own. */
  const anotherIssue = (number: number) => {
    const payload = githubExample('issues', 'opened').payload as {
      issue: { number: number; id: number; title: string; html_url: string };
    };
    payload.issue.number = number;
    payload.issue.id = 90_000 + number;
    payload.issue.title = `Issue ${number}`;
    payload.issue.html_url = payload.issue.html_url.replace(/\d+$/, String(number));
    return payload;
  };

  /** The stored record as the stream carries it: DynamoDB JSON, read with the low-level client. */
  const image = async (key: { pk: string; sk: string }): Promise<Record<string, AttributeValue> | undefined> => {
    const { Item } = await raw.send(new GetItemCommand({ TableName: table, Key: { pk: { S: key.pk }, sk: { S: key.sk } }, ConsistentRead: true }));
    return Item as Record<string, AttributeValue> | undefined;
  };

  const recordOf = async (eventName: 'INSERT' | 'MODIFY', key: { pk: string; sk: string }): Promise<DynamoDBRecord> =>
    streamRecord(eventName, { keys: { pk: { S: key.pk }, sk: { S: key.sk } }, newImage: await image(key) }, table);

  const outboxRecords = async () => {
    const queued = await listQueued(runtime.db, 'outbox');
    // The markers of logged events, and alert records (in their subject's partition), wait on the outbox queue.
    return Promise.all(queued.map((q) => recordOf('INSERT', { pk: q.pk, sk: q.sk })));
  };

  describe('api (Function URL and HTTP API events)', () => {
    it('answers liveness through a Function URL event', async () => {
      const response = await call(functionUrlRequest({ method: 'GET', path: '/healthz' }));
      expect(response).toMatchObject({ status: 200, body: { status: 'ok' } });
    });

    it('documents its API with the domain the requests come in on as the server', async () => {
      const response = await call(functionUrlRequest({ method: 'GET', path: '/openapi.json' }));
      expect(response.status).toBe(200);
      expect(response.body.servers).toEqual([{ url: 'https://abcdefghijklmnopqrstuvwxyz0123456.lambda-url.us-west-2.on.aws' }]);
      expect(Object.keys(response.body.paths)).toContain('/hooks/github/{connectionId}');
    });

    it('creates a connection whose webhook URL is on the domain the request came in on', async () => {
      const response = await call(
        functionUrlRequest({ method: 'POST', path: '/v1/connections', headers: operator, body: JSON.stringify({ source: 'github', name: 'octo' }) }),
      );
      expect(response.status).toBe(201);
      connection = response.body;
      expect(connection.webhookUrl).toBe(`https://abcdefghijklmnopqrstuvwxyz0123456.lambda-url.us-west-2.on.aws/hooks/github/${connection.id}`);
    });

    it('records a signed GitHub delivery once: 202 accepted, then 202 duplicate', async () => {
      const opened = githubExample('issues', 'opened');
      const delivery = await githubDelivery('issues', opened.payload, 'lambda-delivery-1');
      const request = functionUrlRequest({ method: 'POST', path: `/hooks/github/${connection.id}`, ...delivery });
      expect(await call(request)).toMatchObject({ status: 202, body: { deliveryId: 'lambda-delivery-1', status: 'accepted' } });
      expect(await call(request)).toMatchObject({ status: 202, body: { deliveryId: 'lambda-delivery-1', status: 'duplicate' } });
    });

    it('verifies the signature over a base64-encoded body from an HTTP API', async () => {
      const opened = githubExample('pull_request', 'opened');
      const delivery = await githubDelivery('pull_request', opened.payload, 'lambda-delivery-2');
      const response = await call(httpApiRequest({ method: 'POST', path: `/hooks/github/${connection.id}`, ...delivery, base64: true }));
      expect(response).toMatchObject({ status: 202, body: { status: 'accepted' } });

      const tampered = { ...delivery, body: delivery.body.replace('"opened"', '"closed"') };
      const refused = await call(httpApiRequest({ method: 'POST', path: `/hooks/github/${connection.id}`, ...tampered, base64: true }));
      expect(refused.status).toBe(401);
    });

    it('refuses a body over the limit with 413 problem+json', async () => {
      const small = createApiHandler(createLambdaRuntime(loadLambdaConfig(env({ TRIBUTARY_MAX_BODY_BYTES: '1024' })), { eventBridge }));
      const opened = githubExample('issues', 'opened');
      const delivery = await githubDelivery('issues', opened.payload, 'too-large');
      const response = await call(functionUrlRequest({ method: 'POST', path: `/hooks/github/${connection.id}`, ...delivery }), small);
      expect(response.status).toBe(413);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body).toMatchObject({ type: expect.stringContaining('payload-too-large'), limitBytes: 1024 });
    });
  });

  describe('stream filters', () => {
    it('send delivery records to the processor only, and outbox records to the publisher only', async () => {
      const delivery = await recordOf('INSERT', keys.delivery('default', 'github', 'lambda-delivery-1'));
      expect(delivery.dynamodb?.NewImage?.qpk).toEqual({ S: 'inbox' });
      expect(matchesAnyFilter(STREAM_FILTERS.processor, delivery)).toBe(true);
      expect(matchesAnyFilter(STREAM_FILTERS.publisher, delivery)).toBe(false);

      const tenant = await recordOf('INSERT', keys.tenant('default'));
      const removed = streamRecord('REMOVE', { keys: delivery.dynamodb!.Keys!, oldImage: delivery.dynamodb!.NewImage! });
      for (const record of [tenant, removed]) {
        expect(matchesAnyFilter(STREAM_FILTERS.processor, record)).toBe(false);
        expect(matchesAnyFilter(STREAM_FILTERS.publisher, record)).toBe(false);
      }
    });
  });

  describe('processor (DynamoDB stream records)', () => {
    it('processes the deliveries of a batch and reports no failures', async () => {
      const records = [
        await recordOf('INSERT', keys.delivery('default', 'github', 'lambda-delivery-1')),
        await recordOf('INSERT', keys.delivery('default', 'github', 'lambda-delivery-2')),
      ];
      expect(await processor(streamEventOf(...records))).toEqual({ batchItemFailures: [] });
      for (const id of ['lambda-delivery-1', 'lambda-delivery-2']) {
        const delivery = await getDelivery(runtime.db, keys.delivery('default', 'github', id).pk);
        expect(delivery?.status).toBe('processed');
      }
      const outbox = await outboxRecords();
      expect(outbox.length).toBeGreaterThanOrEqual(2);
      for (const record of outbox) expect(matchesAnyFilter(STREAM_FILTERS.publisher, record)).toBe(true);
    });

    it('skips a record delivered again after it was processed (at-least-once stream)', async () => {
      const again = await recordOf('MODIFY', keys.delivery('default', 'github', 'lambda-delivery-1'));
      expect(await processor(streamEventOf(again))).toEqual({ batchItemFailures: [] });
    });

    it('reports the record it could not process as a batch item failure', async () => {
      const broken = createProcessorHandler(
        createLambdaRuntime(loadLambdaConfig(env({ DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' })), { eventBridge }),
      );
      const record = streamRecord('INSERT', {
        keys: { pk: { S: 'T#default#DLV#github#unreachable' }, sk: { S: 'DLV' } },
        newImage: { pk: { S: 'T#default#DLV#github#unreachable' }, sk: { S: 'DLV' }, qpk: { S: 'inbox' }, status: { S: 'pending' } },
      });
      expect(await broken(streamEventOf(record))).toEqual({ batchItemFailures: [{ itemIdentifier: record.dynamodb!.SequenceNumber }] });
    });
  });

  describe('publisher (DynamoDB stream records → EventBridge)', () => {
    it('reports the events EventBridge refused as batch item failures, and keeps them in the outbox', async () => {
      const records = await outboxRecords();
      busFails = true;
      try {
        const response = await publisher(streamEventOf(...records));
        expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(records.map((r) => r.dynamodb!.SequenceNumber).sort());
      } finally {
        busFails = false;
      }
      expect(await listQueued(runtime.db, 'outbox')).toHaveLength(records.length);
    });

    it('publishes each logged event once, then takes it off the outbox', async () => {
      fake.requests.length = 0;
      const records = await outboxRecords();
      // a stream record delivered twice in the batch publishes its event once
      const batch = streamEventOf(...records, records[0]!);
      expect(await publisher(batch)).toEqual({ batchItemFailures: [] });

      const published = fake.entries();
      expect(published.length).toBeGreaterThanOrEqual(2);
      expect(new Set(published.map((e) => e.detail.id)).size).toBe(published.length);
      for (const entry of published) {
        expect(entry).toMatchObject({ Source: 'tributary', EventBusName: BUS, DetailType: entry.detail.type });
        expect(entry.detail.tenantId).toBe('default');
      }
      expect(published.map((e) => e.DetailType)).toContain('work.item.created');
      expect(await listQueued(runtime.db, 'outbox')).toEqual([]);

      // The markers are deleted (a REMOVE invokes nothing); the log keeps the events.
      expect(await image({ pk: records[0]!.dynamodb!.Keys!.pk!.S!, sk: records[0]!.dynamodb!.Keys!.sk!.S! })).toBeUndefined();
    });

    it('serves an event published as a pointer at GET /v1/events/{id}', async () => {
      const big: EventEnvelope = {
        id: 'evt_oversize_1',
        type: 'work.item.updated',
        time: new Date().toISOString(),
        tenantId: 'default',
        subject: 'github:octo/api#1',
        schemaVersion: 1,
        data: { description: 'y'.repeat(400_000) },
      };
      const small = new EventBridgePublisher({
        client: eventBridge,
        busName: BUS,
        maxEntryBytes: 4096,
        oversize: { keep: (event) => keepEventPayload(runtime.db, event) },
      });
      fake.requests.length = 0;
      expect(await small.publish([big])).toEqual({ failedIds: [] });
      const [pointer] = fake.entries();
      expect(pointer!.detail.pointer).toMatchObject({ reason: 'oversize', href: '/v1/events/evt_oversize_1' });

      const fetched = await call(functionUrlRequest({ method: 'GET', path: pointer!.detail.pointer.href, headers: operator }));
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(big);
      const missing = await call(functionUrlRequest({ method: 'GET', path: '/v1/events/evt_unknown', headers: operator }));
      expect(missing.status).toBe(404);
    });
  });

  describe('sweep (scheduled event)', () => {
    it('processes a delivery whose stream record never came, and publishes its events', async () => {
      const delivery = await githubDelivery('issues', anotherIssue(4242), 'lambda-delivery-lost');
      expect((await call(functionUrlRequest({ method: 'POST', path: `/hooks/github/${connection.id}`, ...delivery }))).status).toBe(202);
      fake.requests.length = 0;

      // Two minutes later, past the grace period the sweep leaves to the stream.
      const sweepAt = (ms: number) =>
        createSweepHandler(createLambdaRuntime(loadLambdaConfig(env()), { eventBridge, clock: () => new Date(Date.now() + ms) }));
      const first = await sweepAt(120_000)(scheduledTick(), { getRemainingTimeInMillis: () => 300_000 });
      expect(first).toMatchObject({ deliveries: { processed: 1 }, truncated: false });
      expect((await getDelivery(runtime.db, keys.delivery('default', 'github', 'lambda-delivery-lost').pk))?.status).toBe('processed');
      // The events it caused are young: the item write's own stream record invokes the publisher.
      expect(first.outbox.drained).toBe(0);
      expect(await listQueued(runtime.db, 'outbox')).not.toEqual([]);

      // Had that invocation failed too, the next sweep publishes them.
      const next = await sweepAt(240_000)(scheduledTick());
      expect(next.outbox.drained).toBeGreaterThanOrEqual(1);
      expect(fake.entries().map((e) => e.DetailType)).toContain('work.item.created');
      expect(await listQueued(runtime.db, 'inbox')).toEqual([]);
      expect(await listQueued(runtime.db, 'outbox')).toEqual([]);
    });

    it('leaves records younger than the grace period to the stream', async () => {
      const delivery = await githubDelivery('issues', anotherIssue(4343), 'lambda-delivery-young');
      expect((await call(functionUrlRequest({ method: 'POST', path: `/hooks/github/${connection.id}`, ...delivery }))).status).toBe(202);
      const report = await createSweepHandler(runtime)(scheduledTick());
      expect(report.deliveries).toEqual({});
      expect(await listQueued(runtime.db, 'inbox')).toHaveLength(1);
    });
  });
});
