import { GetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { sign } from '@octokit/webhooks-methods';
import type { AttributeValue } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadLambdaConfig } from '../../functions/aws-config.ts';
import { createApiHandler } from '../../functions/lambda/api.ts';
import { createProcessorHandler } from '../../functions/lambda/processor.ts';
import { createPublisherHandler } from '../../functions/lambda/publisher.ts';
import { createLambdaRuntime, type LambdaRuntime } from '../../functions/lambda/runtime.ts';
import { createSweepHandler } from '../../functions/lambda/sweep.ts';
import type { EmfRecord } from '../../pipeline/emf.ts';
import { ensureTable } from '../../store/db.ts';
import { keys } from '../../store/keys.ts';
import { listQueued } from '../../store/queue.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { functionUrlRequest, scheduledTick, streamEventOf, streamRecord } from '../fixtures/lambda/events.ts';
import { LOCAL_AWS, startFakeEventBridge } from '../support/fake-eventbridge.ts';
import { OPERATOR_TOKEN, uniqueTable } from '../support/hub.ts';

describe('Lambda handlers print their figures as CloudWatch EMF', () => {
  const endpoint = inject('dynamodbEndpoint');
  const table = uniqueTable('emf');
  const printed: string[] = [];
  let fake: Awaited<ReturnType<typeof startFakeEventBridge>>;
  let eventBridge: EventBridgeClient;
  let raw: DynamoDBClient;
  let runtime: LambdaRuntime;

  /** Records printed since the last call, parsed; every line must be one JSON object. */
  const records = (): EmfRecord[] => printed.splice(0).map((line) => JSON.parse(line) as EmfRecord);
  /** The value of metric `name` in the record whose dimensions are exactly `dimensions`. */
  const valueOf = (all: EmfRecord[], name: string, dimensions: Record<string, string>) =>
    all.find((r) => {
      const set = r._aws.CloudWatchMetrics[0]!;
      return (
        set.Metrics.some((m) => m.Name === name) &&
        JSON.stringify([...set.Dimensions[0]!].sort()) === JSON.stringify(Object.keys(dimensions).sort()) &&
        Object.entries(dimensions).every(([k, v]) => r[k] === v)
      );
    })?.[name];

  beforeAll(async () => {
    fake = await startFakeEventBridge((request) => ({ body: { FailedEntryCount: 0, Entries: request.body.Entries.map((_, i) => ({ EventId: `eb-${i}` })) } }));
    eventBridge = new EventBridgeClient({ ...LOCAL_AWS, endpoint: fake.endpoint });
    raw = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
    const config = loadLambdaConfig({
      TRIBUTARY_TABLE: table,
      DYNAMODB_ENDPOINT: endpoint,
      TRIBUTARY_BUS_NAME: 'tributary-test-Events',
      TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN,
      TRIBUTARY_LOG_LEVEL: 'silent',
    });
    runtime = createLambdaRuntime(config, { eventBridge, stage: 'staging', emit: (line) => printed.push(line) });
    await ensureTable(runtime.db);
  });
  afterAll(async () => {
    eventBridge.destroy();
    raw.destroy();
    await fake.close();
  });

  it("serves the process's memory on /metrics, but does not print it: Lambda reports its memory itself", async () => {
    const api = createApiHandler(runtime);
    records();
    const scraped = await api(functionUrlRequest({ method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } }));
    expect(scraped.statusCode).toBe(200);
    expect(String(scraped.body)).toMatch(/^process_resident_memory_bytes \d+$/m);
    const printed = records().flatMap((r) => r._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name));
    expect(printed).toContain('HttpRequestDurationSeconds');
    expect(printed.filter((name) => /Memory|Heap/.test(name))).toEqual([]);
  });

  it('carries deliveries, processing outcomes, publishes, latency and lag through api, processor, publisher and sweep', async () => {
    const api = createApiHandler(runtime);
    const operator = { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' };
    const created = await api(functionUrlRequest({ method: 'POST', path: '/v1/connections', headers: operator, body: JSON.stringify({ source: 'github', name: 'octo' }) }));
    const connection = JSON.parse(String(created.body)) as { id: string; secret: string };
    records();

    const body = JSON.stringify(githubExample('issues', 'opened').payload);
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': 'emf-delivery-1',
      'x-hub-signature-256': await sign(connection.secret, body),
    };
    const response = await api(functionUrlRequest({ method: 'POST', path: `/hooks/github/${connection.id}`, headers, body }));
    expect(response.statusCode).toBe(202);

    // One invocation, one flush: each line a complete EMF record with the stage dimension.
    const fromApi = records();
    expect(fromApi.length).toBeGreaterThan(0);
    for (const record of fromApi) {
      expect(record._aws.CloudWatchMetrics[0]!.Namespace).toBe('Tributary');
      expect(record.Stage).toBe('staging');
      expect(record._aws.CloudWatchMetrics[0]!.Dimensions[0]).toContain('Stage');
    }
    expect(valueOf(fromApi, 'DeliveriesReceived', { Stage: 'staging', Source: 'github' })).toBe(1);
    expect(valueOf(fromApi, 'DeliveriesAccepted', { Stage: 'staging', Source: 'github' })).toBe(1);
    const latency = valueOf(fromApi, 'HttpRequestDurationSeconds', { Stage: 'staging', Method: 'POST', Route: '/hooks/:source/:connectionId', StatusClass: '2xx' });
    expect(latency).toEqual([expect.any(Number)]);

    const deliveryKey = keys.delivery('default', 'github', 'emf-delivery-1');
    const image = async (key: { pk: string; sk: string }) =>
      (await raw.send(new GetItemCommand({ TableName: table, Key: { pk: { S: key.pk }, sk: { S: key.sk } }, ConsistentRead: true }))).Item as Record<string, AttributeValue>;
    const inboxRecord = streamRecord('INSERT', { keys: { pk: { S: deliveryKey.pk }, sk: { S: deliveryKey.sk } }, newImage: await image(deliveryKey) }, table);

    expect(await createProcessorHandler(runtime)(streamEventOf(inboxRecord))).toEqual({ batchItemFailures: [] });
    const fromProcessor = records();
    expect(valueOf(fromProcessor, 'DeliveriesCompleted', { Stage: 'staging', Source: 'github', Outcome: 'processed' })).toBe(1);
    // Counts are per flush: what the API printed is not printed again.
    expect(valueOf(fromProcessor, 'DeliveriesAccepted', { Stage: 'staging', Source: 'github' })).toBeUndefined();

    const outbox = await listQueued(runtime.db, 'outbox');
    expect(outbox.length).toBeGreaterThan(0);
    const outboxRecords = await Promise.all(outbox.map(async (q) => streamRecord('MODIFY', { keys: { pk: { S: q.pk }, sk: { S: q.sk } }, newImage: await image(q) }, table)));
    expect(await createPublisherHandler(runtime)(streamEventOf(...outboxRecords))).toEqual({ batchItemFailures: [] });
    expect(valueOf(records(), 'EventsPublished', { Stage: 'staging' })).toBeGreaterThan(0);

    await createSweepHandler(runtime)(scheduledTick());
    const fromSweep = records();
    expect(valueOf(fromSweep, 'ProcessingLagSeconds', { Stage: 'staging' })).toBe(0);
    expect(valueOf(fromSweep, 'OutboxDepth', { Stage: 'staging' })).toBe(0);
    expect(valueOf(fromSweep, 'AlertsOpen', { Stage: 'staging', Kind: 'dependency_cycle' })).toBe(0);
    const lagMetric = fromSweep.flatMap((r) => r._aws.CloudWatchMetrics[0]!.Metrics).find((m) => m.Name === 'ProcessingLagSeconds');
    expect(lagMetric).toEqual({ Name: 'ProcessingLagSeconds', Unit: 'Seconds' });
  });
});
