import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, InternalServerError } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { sign } from '@octokit/webhooks-methods';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { itemIdForRef } from '../../core/ids.ts';
import { githubRef } from '../../core/references.ts';
import { loadLambdaConfig } from '../../functions/aws-config.ts';
import { createApiHandler } from '../../functions/lambda/api.ts';
import { createProcessorHandler } from '../../functions/lambda/processor.ts';
import { createLambdaRuntime, type LambdaRuntime } from '../../functions/lambda/runtime.ts';
import { streamFilters } from '../../infra/definitions.ts';
import { ensureTable } from '../../store/db.ts';
import { getDelivery } from '../../store/inbox.ts';
import { loadItem } from '../../store/items.ts';
import { keys } from '../../store/keys.ts';
import { listQueued } from '../../store/queue.ts';
import { createTableInput } from '../../store/table.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { functionUrlRequest } from '../fixtures/lambda/events.ts';
import { matchesAnyFilter } from '../support/event-filter.ts';
import { LOCAL_AWS } from '../support/fake-eventbridge.ts';
import { OPERATOR_TOKEN, uniqueTable } from '../support/hub.ts';
import { type TableStreamReader, readTableStream } from '../support/table-stream.ts';

// dynalite, the embedded engine, has no Streams API: this runs on DynamoDB Local only.
const onDynamoDbLocal = inject('engineKind') === 'dynamodb-local';

const ISSUES = [7001, 7002, 7003];
const FAILING = 7002;

/** A real `issues.opened` payload about issue `number`. */
const openedIssue = (number: number) => {
  const payload = githubExample('issues', 'opened').payload as {
    issue: { number: number; id: number; title: string; html_url: string };
    repository: { full_name: string };
  };
  payload.issue.number = number;
  payload.issue.id = 90_000 + number;
  payload.issue.title = `Issue ${number}`;
  payload.issue.html_url = payload.issue.html_url.replace(/\d+$/, String(number));
  return payload;
};

const itemIdOf = (number: number) => itemIdForRef(githubRef(openedIssue(number).repository.full_name, number));
const deliveryIdOf = (number: number) => `stream-delivery-${number}`;
const deliveryPkOf = (number: number) => keys.delivery('default', 'github', deliveryIdOf(number)).pk;

const keyOf = (record: DynamoDBRecord) => ({ pk: record.dynamodb!.Keys!.pk!.S!, sk: record.dynamodb!.Keys!.sk!.S! });
const sequenceOf = (record: DynamoDBRecord) => BigInt(record.dynamodb!.SequenceNumber!);

/**
 * Fails, while on, every write of one item's record with a 500 from the store as the code sees it
 * once the SDK's retries are exhausted: a transient store error on exactly one delivery of a batch.
 */
const failWritesOf = (runtime: LambdaRuntime, itemPk: string) => {
  let on = false;
  const writesItem = (input: { Item?: Record<string, unknown> } | undefined) => {
    const pk = input?.Item?.pk as string | { S?: string } | undefined;
    return (typeof pk === 'string' ? pk : pk?.S) === itemPk;
  };
  runtime.db.doc.middlewareStack.add(
    ((next: (args: { input: unknown }) => Promise<unknown>) => async (args: { input: { Item?: Record<string, unknown> } }) => {
      if (on && writesItem(args.input)) throw new InternalServerError({ message: `${itemPk} failed by the test`, $metadata: { httpStatusCode: 500 } });
      return next(args);
    }) as never,
    { name: 'failWritesOfOneItem', step: 'initialize', priority: 'high' },
  );
  return { start: () => void (on = true), stop: () => void (on = false) };
};

describe.skipIf(!onDynamoDbLocal)('the processor Lambda fed from the table stream of DynamoDB Local', () => {
  const endpoint = inject('dynamodbEndpoint');
  const table = uniqueTable('stream');
  const processorFilters = streamFilters('processor');
  const publisherFilters = streamFilters('publisher');
  let raw: DynamoDBClient;
  let eventBridge: EventBridgeClient;
  let runtime: LambdaRuntime;
  let processor: ReturnType<typeof createProcessorHandler>;
  let stream: TableStreamReader;
  let faults: ReturnType<typeof failWritesOf>;
  /** the first batch: what the stream handed the processor after the deliveries were acknowledged */
  let batch: DynamoDBRecord[];
  let failed: DynamoDBRecord;
  /** the stream records the first invocation caused */
  let caused: DynamoDBRecord[];

  beforeAll(async () => {
    raw = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
    // The processor publishes nothing; should it try, the bus is a closed port on loopback.
    eventBridge = new EventBridgeClient({ ...LOCAL_AWS, endpoint: 'http://127.0.0.1:9' });
    // The table as infra/storage.ts makes it: the code's schema with a NEW_AND_OLD_IMAGES stream.
    await raw.send(new CreateTableCommand({ ...createTableInput(table), StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }));
    const env = { TRIBUTARY_TABLE: table, DYNAMODB_ENDPOINT: endpoint, TRIBUTARY_BUS_NAME: 'tributary-test-Events', TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN, TRIBUTARY_LOG_LEVEL: 'silent' as const };
    runtime = createLambdaRuntime(loadLambdaConfig(env), { eventBridge, emit: () => undefined });
    await ensureTable(runtime.db);
    const { Table } = await raw.send(new DescribeTableCommand({ TableName: table }));
    stream = readTableStream(endpoint, Table!.LatestStreamArn!);
    processor = createProcessorHandler(runtime);
    faults = failWritesOf(runtime, keys.item('default', itemIdOf(FAILING)).pk);

    // Deliveries acknowledged through the API function, as GitHub sends them.
    const api = createApiHandler(runtime);
    const operator = { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' };
    const created = await api(functionUrlRequest({ method: 'POST', path: '/v1/connections', headers: operator, body: JSON.stringify({ source: 'github', name: 'octo' }) }));
    const connection = JSON.parse(created.body) as { id: string; secret: string };
    for (const number of ISSUES) {
      const body = JSON.stringify(openedIssue(number));
      const headers = {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': deliveryIdOf(number),
        'x-hub-signature-256': await sign(connection.secret, body),
      };
      const acknowledged = await api(functionUrlRequest({ method: 'POST', path: `/hooks/github/${connection.id}`, headers, body }));
      expect(acknowledged.statusCode).toBe(202);
    }
  });
  afterAll(() => {
    stream?.close();
    raw?.destroy();
    eventBridge?.destroy();
  });

  it('hands the processor the acknowledged deliveries, and nothing else the table wrote', async () => {
    const records = await stream.read();
    batch = records.filter((r) => matchesAnyFilter(processorFilters, r));
    expect(batch.map((r) => keyOf(r).pk)).toEqual(ISSUES.map(deliveryPkOf));
    for (const record of batch) {
      expect(record).toMatchObject({ eventName: 'INSERT', eventSource: 'aws:dynamodb', dynamodb: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
      expect(record.dynamodb!.NewImage!.status).toEqual({ S: 'pending' });
    }
    // The schema version, the connection and its secret reached the stream too; the filters keep them out.
    const excluded = records.filter((r) => !batch.includes(r)).map(keyOf);
    expect(excluded).toContainEqual(keys.schema());
    expect(excluded.some((k) => k.pk.startsWith('CONN#'))).toBe(true);
  });

  it('processes the batch, and reports as a batch item failure only the record whose store write failed', async () => {
    failed = batch[ISSUES.indexOf(FAILING)]!;
    faults.start();
    const response = await processor({ Records: batch }).finally(faults.stop);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: failed.dynamodb!.SequenceNumber }] });

    for (const number of ISSUES.filter((n) => n !== FAILING)) {
      expect(await getDelivery(runtime.db, deliveryPkOf(number))).toMatchObject({ status: 'processed' });
      expect((await loadItem(runtime.db, 'default', itemIdOf(number))).item).toMatchObject({ title: `Issue ${number}` });
    }
    expect(await getDelivery(runtime.db, deliveryPkOf(FAILING))).toMatchObject({ status: 'pending', attempts: 1 });
    expect((await loadItem(runtime.db, 'default', itemIdOf(FAILING))).item).toBeUndefined();
    expect((await listQueued(runtime.db, 'inbox')).map((q) => q.pk)).toEqual([deliveryPkOf(FAILING)]);
  });

  it('keeps what the processing wrote (items, outbox markers, finished deliveries) from the processor; only the counted retry matches', async () => {
    caused = await stream.read();
    const matched = caused.filter((r) => matchesAnyFilter(processorFilters, r));
    expect(matched.map((r) => [r.eventName, keyOf(r).pk])).toEqual([['MODIFY', deliveryPkOf(FAILING)]]);

    const excluded = caused.filter((r) => !matched.includes(r));
    const itemRecords = excluded.filter((r) => keyOf(r).sk === 'ITEM').map((r) => keyOf(r).pk);
    expect(itemRecords).toEqual(expect.arrayContaining(ISSUES.filter((n) => n !== FAILING).map((n) => keys.item('default', itemIdOf(n)).pk)));
    const markers = excluded.filter((r) => keyOf(r).sk.startsWith(keys.outboxMarkerPrefix));
    expect(markers.length).toBeGreaterThanOrEqual(2);
    for (const marker of markers) expect(matchesAnyFilter(publisherFilters, marker)).toBe(true);
    // A finished delivery leaves the inbox queue: its MODIFY has the queue key only in the old image.
    const finished = excluded.filter((r) => keyOf(r).pk === deliveryPkOf(ISSUES[0]!) && r.eventName === 'MODIFY');
    expect(finished).not.toEqual([]);
    for (const record of finished) expect(record.dynamodb!.NewImage!.qpk).toBeUndefined();
  });

  it('processes the failed record when Lambda invokes again from it, and skips what was already done', async () => {
    // ReportBatchItemFailures: Lambda retries the shard from the failed record on, later records included.
    const again = batch.filter((r) => sequenceOf(r) >= sequenceOf(failed));
    expect(again[0]).toBe(failed);
    expect(await processor({ Records: again })).toEqual({ batchItemFailures: [] });
    expect(await getDelivery(runtime.db, deliveryPkOf(FAILING))).toMatchObject({ status: 'processed' });
    expect((await loadItem(runtime.db, 'default', itemIdOf(FAILING))).item).toMatchObject({ title: `Issue ${FAILING}` });

    // The counted retry's own record comes next: the delivery is done, so it is skipped.
    const retryRecord = caused.filter((r) => matchesAnyFilter(processorFilters, r));
    expect(await processor({ Records: retryRecord })).toEqual({ batchItemFailures: [] });
    expect(await listQueued(runtime.db, 'inbox')).toEqual([]);
    const afterwards = (await stream.read()).filter((r) => matchesAnyFilter(processorFilters, r));
    expect(afterwards).toEqual([]);
  });
});
