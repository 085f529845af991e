import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENT_SOURCE } from '../../core/events.ts';
import { LAMBDA_MAX_BODY_BYTES, LINKED } from '../../functions/aws-config.ts';
import { STREAM_FILTERS } from '../../store/stream-filters.ts';
import { createTableInput } from '../../store/table.ts';
import { applyTransform, createFakeSst } from '../support/fake-sst.ts';
import { createHubMetrics } from '../../pipeline/hub-metrics.ts';
import { EMF_NAMESPACE, STAGE_DIMENSION, drainEmf, emfMetricName } from '../../pipeline/emf.ts';

const ROOT = join(import.meta.dirname, '../..');
// Imported by URL so the root tsconfig does not type-check it without SST's globals (infra/tsconfig.json does).
const CONFIG = pathToFileURL(join(ROOT, 'sst.config.ts')).href;

let current: ReturnType<typeof createFakeSst> | undefined;

/** Runs sst.config.ts for a stage against recording stand-ins of SST's globals. */
const synth = async (stage: string) => {
  vi.resetModules();
  current = createFakeSst(stage);
  current.install();
  const config = (await import(/* @vite-ignore */ CONFIG)).default as {
    app(input: { stage: string }): Record<string, unknown>;
    run(): Promise<Record<string, unknown>>;
  };
  const app = config.app({ stage });
  const outputs = await config.run();
  return { sst: current, app, outputs };
};

afterEach(() => current?.uninstall());

/** The functions a synthesized app defines: API, stream subscribers, cron. */
const functionsOf = (sst: ReturnType<typeof createFakeSst>) => ({
  api: sst.one('sst.aws.Function', 'Api').args,
  processor: sst.subscription('Processor').subscriber,
  publisher: sst.subscription('Publisher').subscriber,
  sweep: sst.one('sst.aws.Cron', 'Sweep').args.function,
});

describe('sst.config.ts (synthesized against stand-ins of SST)', () => {
  it('creates the table from the same key schema and indexes as createTableInput', async () => {
    const { sst } = await synth('ci');
    const args = sst.one('sst.aws.Dynamo', LINKED.table).args;
    const expected = createTableInput('any');
    const byName = (a: { AttributeName?: string }, b: { AttributeName?: string }) => String(a.AttributeName).localeCompare(String(b.AttributeName));
    expect(
      Object.entries(args.fields)
        .map(([name, type]) => ({ AttributeName: name, AttributeType: ({ string: 'S', number: 'N', binary: 'B' } as const)[type as 'string'] }))
        .sort(byName),
    ).toEqual([...expected.AttributeDefinitions!].sort(byName));
    expect([
      { AttributeName: args.primaryIndex.hashKey, KeyType: 'HASH' },
      { AttributeName: args.primaryIndex.rangeKey, KeyType: 'RANGE' },
    ]).toEqual(expected.KeySchema);
    expect(
      Object.entries(args.globalIndexes).map(([name, index]: [string, any]) => ({
        IndexName: name,
        KeySchema: [
          { AttributeName: index.hashKey, KeyType: 'HASH' },
          { AttributeName: index.rangeKey, KeyType: 'RANGE' },
        ],
        Projection: Array.isArray(index.projection) ? { ProjectionType: 'INCLUDE', NonKeyAttributes: index.projection } : { ProjectionType: index.projection.toUpperCase() },
      })),
    ).toEqual(expected.GlobalSecondaryIndexes);
  });

  it('makes the table on-demand, with TTL on expiresAt, point-in-time recovery and a new-and-old-images stream', async () => {
    const { sst } = await synth('ci');
    const args = sst.one('sst.aws.Dynamo', LINKED.table).args;
    expect(args.ttl).toBe('expiresAt');
    expect(args.stream).toBe('new-and-old-images');
    expect(applyTransform(args.transform.table)).toEqual({ billingMode: 'PAY_PER_REQUEST', pointInTimeRecovery: { enabled: true } });
  });

  it('keeps production data: retain on removal, protected stage, deletion-protected table', async () => {
    const prod = await synth('prod');
    expect(prod.app).toMatchObject({ name: 'tributary', home: 'aws', removal: 'retain', protect: true });
    expect(prod.sst.one('sst.aws.Dynamo', LINKED.table).args.deletionProtection).toBe(true);

    const dev = await synth('dev');
    expect(dev.app).toMatchObject({ removal: 'remove', protect: false });
    expect(dev.sst.one('sst.aws.Dynamo', LINKED.table).args.deletionProtection).toBe(false);
  });

  it('runs every function on nodejs22.x, arm64, from a handler that exists and is exported, with jira.js installed beside it and packages bundled from their ES builds', async () => {
    const { sst } = await synth('ci');
    for (const [name, fn] of Object.entries(functionsOf(sst))) {
      // The bundles leave jira.js out (scripts/build.ts), so each function package must carry it.
      expect(fn, name).toMatchObject({
        runtime: 'nodejs22.x',
        architecture: 'arm64',
        nodejs: { install: ['jira.js'], esbuild: { mainFields: ['module', 'main'] } },
      });
      const [file, exported] = String(fn.handler).split('.') as [string, string];
      expect(existsSync(join(ROOT, `${file}.ts`)), `${file}.ts`).toBe(true);
      const module = await import(/* @vite-ignore */ pathToFileURL(join(ROOT, `${file}.ts`)).href);
      expect(typeof module[exported], `${fn.handler}`).toBe('function');
    }
  });

  it('links each function to what it uses, under the names functions/aws-config.ts reads', async () => {
    const { sst } = await synth('ci');
    const table = sst.one('sst.aws.Dynamo', LINKED.table);
    const bus = sst.one('sst.aws.Bus', LINKED.bus);
    const secret = sst.one('sst.Secret', LINKED.adminToken);
    const linked = (fn: { link: { recorded: unknown }[] }) => fn.link.map((l) => l.recorded);
    const { api, processor, publisher, sweep } = functionsOf(sst);
    expect(linked(api)).toEqual([table, secret]);
    expect(linked(processor)).toContain(table);
    expect(linked(processor)).not.toContain(bus);
    expect(linked(publisher)).toEqual(expect.arrayContaining([table, bus]));
    expect(linked(sweep)).toEqual(expect.arrayContaining([table, bus]));
  });

  it('serves the API from a Function URL within GitHub’s 10 s and Lambda’s 6 MB', async () => {
    const { sst, outputs } = await synth('ci');
    const { api } = functionsOf(sst);
    expect(api.url).toBeTruthy();
    expect(Number.parseInt(api.timeout, 10)).toBeLessThanOrEqual(10);
    expect(api.environment.TRIBUTARY_MAX_BODY_BYTES ?? String(LAMBDA_MAX_BODY_BYTES)).toBe(String(LAMBDA_MAX_BODY_BYTES));
    expect(outputs).toMatchObject({ api: 'Api.url', bus: `${LINKED.bus}.name`, table: `${LINKED.table}.name` });
  });

  it('subscribes the processor and the publisher to the stream with the record filters of store/stream-filters.ts', async () => {
    const { sst } = await synth('ci');
    const table = sst.one('sst.aws.Dynamo', LINKED.table);
    for (const name of ['Processor', 'Publisher'] as const) {
      const subscription = sst.subscription(name);
      expect(subscription.on).toBe(table);
      expect(subscription.args.filters).toEqual(STREAM_FILTERS[name === 'Processor' ? 'processor' : 'publisher']);
      expect(subscription.args.filters.length).toBeLessThanOrEqual(5); // Lambda accepts up to 5 filters per mapping
    }
  });

  it('reports batch item failures, bounds retries, and parks what is left in a dead-letter queue', async () => {
    const { sst } = await synth('ci');
    const deadLetters = sst.one('sst.aws.Queue', 'StreamDeadLetter');
    for (const name of ['Processor', 'Publisher']) {
      const mapping = applyTransform(sst.subscription(name).args.transform.eventSourceMapping);
      expect(mapping.functionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(mapping.maximumRetryAttempts).toBeGreaterThanOrEqual(0);
      expect(mapping.maximumRetryAttempts).toBeLessThanOrEqual(10);
      expect(mapping.maximumRecordAgeInSeconds).toBeGreaterThan(0);
      expect(mapping.bisectBatchOnFunctionError).toBe(true);
      expect(mapping.destinationConfig).toEqual({ onFailure: { destinationArn: `${deadLetters.name}.arn` } });
      expect(sst.subscription(name).subscriber.link.map((l: { recorded: unknown }) => l.recorded)).toContain(deadLetters);
    }
  });

  it('sweeps on a schedule', async () => {
    const { sst } = await synth('ci');
    expect(sst.one('sst.aws.Cron', 'Sweep').args.schedule).toMatch(/^rate\(\d+ minutes?\)$/);
  });

  it('creates the bus with an archive of every event, an example rule on work.alert.raised and a dead-letter queue', async () => {
    const { sst } = await synth('ci');
    const bus = sst.one('sst.aws.Bus', LINKED.bus);
    const archive = sst.one('aws.cloudwatch.EventArchive', 'EventsArchive').args;
    expect(archive.eventSourceArn).toBe(`${bus.name}.arn`);
    expect(JSON.parse(archive.eventPattern)).toEqual({ source: [EVENT_SOURCE] });

    const rule = sst.subscription('AlertsRule');
    expect(rule).toMatchObject({ on: bus, method: 'subscribeQueue' });
    expect(rule.subscriber.recorded).toBe(sst.one('sst.aws.Queue', 'Alerts'));
    expect(rule.args.pattern).toEqual({ source: [EVENT_SOURCE], detailType: ['work.alert.raised'] });
    const target = applyTransform(rule.args.transform.target);
    expect(target.deadLetterConfig).toEqual({ arn: 'EventsDeadLetter.arn' });
    expect(target.retryPolicy.maximumRetryAttempts).toBeLessThanOrEqual(185);

    const policy = JSON.parse(sst.one('aws.sqs.QueuePolicy', 'EventsDeadLetterPolicy').args.policy);
    expect(policy.Statement[0]).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: 'EventsDeadLetter.arn' });
  });

  it('alarms on processing lag, on the metric and dimensions the sweep prints as EMF, notifying the Alarms topic', async () => {
    const { sst, outputs } = await synth('prod');
    const alarm = sst.one('aws.cloudwatch.MetricAlarm', 'ProcessingLagAlarm').args;
    const topic = sst.one('aws.sns.Topic', 'Alarms');
    // What the functions print for the lag gauge: the alarm must name exactly that metric.
    const metrics = createHubMetrics();
    metrics.lag.set({}, 12);
    const [record] = drainEmf(metrics.registry, { [STAGE_DIMENSION]: 'prod' }, 0).filter((r) => emfMetricName(metrics.lag.name) in r);
    const printed = record!._aws.CloudWatchMetrics[0]!;
    expect(alarm).toMatchObject({ namespace: printed.Namespace, metricName: printed.Metrics.find((m) => m.Name === 'ProcessingLagSeconds')!.Name });
    expect(alarm.namespace).toBe(EMF_NAMESPACE);
    expect(Object.keys(alarm.dimensions)).toEqual(printed.Dimensions[0]);
    expect(alarm.dimensions).toEqual({ [STAGE_DIMENSION]: 'prod' });
    expect(alarm.threshold).toBeGreaterThan(0);
    expect(alarm.comparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    // The sweep measures it every few minutes: a period shorter than its schedule would see gaps as missing data.
    expect(alarm.period * alarm.evaluationPeriods).toBeGreaterThanOrEqual(300);
    expect(alarm.alarmActions).toEqual([`${topic.name}.arn`]);
    expect(alarm.okActions).toEqual([`${topic.name}.arn`]);
    expect(outputs.alarmTopic).toBe('Alarms.arn');
  });

  it('alarms on a message in either dead-letter queue', async () => {
    const { sst } = await synth('ci');
    for (const [alarmName, queueName] of [
      ['StreamDeadLetterAlarm', 'StreamDeadLetter'],
      ['EventsDeadLetterAlarm', 'EventsDeadLetter'],
    ] as const) {
      sst.one('sst.aws.Queue', queueName);
      const alarm = sst.one('aws.cloudwatch.MetricAlarm', alarmName).args;
      expect(alarm).toMatchObject({
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: `${queueName}.queueName` },
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        treatMissingData: 'notBreaching',
        alarmActions: ['Alarms.arn'],
      });
    }
  });
});
